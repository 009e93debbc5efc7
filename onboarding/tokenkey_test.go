package onboarding

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func TestTokenKey(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	k := TokenKey(master)
	m := hmac.New(sha256.New, master)
	m.Write([]byte("sesame tokens"))
	if !bytes.Equal(k, m.Sum(nil)) || len(k) != 32 {
		t.Fatalf("TokenKey = %x", k)
	}
	if bytes.Equal(k, TokenKey(bytes.Repeat([]byte{8}, 32))) {
		t.Fatal("two masters give the same key")
	}
	if bytes.Equal(k, master) {
		t.Fatal("the token key is the master key")
	}
}
