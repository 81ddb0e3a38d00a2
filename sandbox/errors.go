package sandbox

import (
	"fmt"
	"net/http"
)

// APIError is a Management API failure, written as Auth0's error envelope.
type APIError struct {
	Status  int
	Message string
	Code    string // Auth0's errorCode; empty where Auth0 sends none
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

func badRequest(msg, code string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Message: msg, Code: code}
}

func notFound(msg, code string) *APIError {
	return &APIError{Status: http.StatusNotFound, Message: msg, Code: code}
}

// conflict is Auth0's 409 for an object that already exists; its errorCode is not known.
func conflict(msg string) *APIError {
	return &APIError{Status: http.StatusConflict, Message: msg}
}

// envelope is the JSON body of a Management API error.
type envelope struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode,omitempty"`
}

func (e *APIError) envelope() envelope {
	return envelope{StatusCode: e.Status, Error: http.StatusText(e.Status), Message: e.Message, ErrorCode: e.Code}
}

// oauthError is an Authentication API failure: {"error","error_description"}.
type oauthError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Description)
}

// invalidClient is the 401 Auth0 returns for every failed client assertion; the description
// says which rule failed, so an operator can tell a wrong key from an expired one.
func invalidClient(format string, args ...any) *oauthError {
	return &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: fmt.Sprintf(format, args...)}
}
