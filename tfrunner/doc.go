// Package tfrunner is rekey's only way to change credentials: it finds (or installs) Terraform,
// runs init, plan, show and apply through terraform-exec with saved plans, edits the
// auth0_client_credentials resource with hclwrite, and reads saved plans into a summary and the
// guard findings that can block an apply.
package tfrunner
