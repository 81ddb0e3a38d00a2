// Package keys creates, encodes, parses and safely stores the RSA key pairs
// and self-signed certificates used for Auth0 Private Key JWT credentials.
//
// Private key material is never printed or logged: error messages name files,
// key sizes and thumbprints (kids), never key bytes.
package keys
