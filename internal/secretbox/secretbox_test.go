package secretbox

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	b, err := New(master, "credentials v1")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := b.Seal("svc-1", []byte("admin:app password"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("app password")) {
		t.Fatal("the sealed value holds the plaintext")
	}
	again, _ := b.Seal("svc-1", []byte("admin:app password"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one value are equal (nonce reused?)")
	}
	plain, err := b.Open("svc-1", sealed)
	if err != nil || string(plain) != "admin:app password" {
		t.Fatalf("Open = %q, %v", plain, err)
	}

	other, _ := New(master, "totp v1")
	otherMaster, _ := New(bytes.Repeat([]byte{8}, 32), "credentials v1")
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	for name, tc := range map[string]struct {
		box    *Box
		ad     string
		sealed []byte
	}{
		"another row":        {b, "svc-2", sealed},
		"another purpose":    {other, "svc-1", sealed},
		"another master key": {otherMaster, "svc-1", sealed},
		"damaged":            {b, "svc-1", damaged},
		"truncated":          {b, "svc-1", sealed[:10]},
		"empty":              {b, "svc-1", nil},
		"unknown version":    {b, "svc-1", append([]byte{9}, sealed[1:]...)},
	} {
		if _, err := tc.box.Open(tc.ad, tc.sealed); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	if _, err := New(make([]byte, 16), "x"); err == nil {
		t.Fatal("a 16-byte master key was accepted")
	}
	if _, err := New(make([]byte, 32), ""); err == nil {
		t.Fatal("an empty purpose was accepted")
	}
}

func TestSealJSON(t *testing.T) {
	b, err := New(bytes.Repeat([]byte{7}, 32), "json test")
	if err != nil {
		t.Fatal(err)
	}
	type v struct{ A string }
	text, err := b.SealJSON("row:1", v{A: "é"})
	if err != nil || strings.ContainsAny(text, "+/=") {
		t.Fatalf("%q %v", text, err)
	}
	var got v
	if err := b.OpenJSON("row:1", text, &got); err != nil || got.A != "é" {
		t.Fatalf("%+v %v", got, err)
	}
	for name, try := range map[string]func() error{
		"another ad":  func() error { return b.OpenJSON("row:2", text, &got) },
		"damaged":     func() error { return b.OpenJSON("row:1", text[:len(text)-3]+"AAA", &got) },
		"not base64":  func() error { return b.OpenJSON("row:1", "%%", &got) },
		"not JSON of": func() error { return b.OpenJSON("row:1", text, &[]int{}) },
	} {
		if err := try(); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
