// Package mfa is the second factor's plain machinery, shared by the
// provider (which asks for it at login) and the portal (where people enrol
// one): TOTP codes (RFC 6238) checked against replay, their enrolment QR
// code drawn as inline SVG, single-use recovery codes kept hashed, the
// sealing of secrets under the master key, and the policy that says
// whether a person may or must use a second factor.
//
// It holds no HTTP: pages and forms are the callers'.
package mfa
