// Package certs reads the certificate files the configuration names, the
// same way for every client sesame opens (the LDAP directory, the SMTP
// server, `config check`).
package certs

import (
	"crypto/x509"
	"fmt"
	"os"
)

// ReadCA reads a file of PEM certificates to trust, refused when it cannot
// be read (a folder, a missing file) or holds no certificate.
func ReadCA(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}
