// Package steps is rekey's rotation engine: the eight steps of a zero-downtime Private Key JWT
// rotation (preflight, generate, stage, attach, verify, promote, retire, confirm), their gates
// and safety rules, a journal that makes a rotation resumable, and the audit log. The wizard
// and the headless command drive the same engine through events and questions; it imports no
// UI package.
package steps
