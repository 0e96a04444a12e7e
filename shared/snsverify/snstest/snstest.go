// Package snstest signs SNS messages for tests: a key pair and a self-signed
// certificate made in the test, a snsverify.Fetcher that serves that
// certificate (and counts its calls), and the SES fixtures' SNS envelopes.
//
// It builds the string to sign on its own, from AWS's documented key lists,
// rather than with snsverify's code, so a test fails if either is wrong.
package snstest

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SignatureVersion 1 is SHA1withRSA
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Signer holds a key and the certificate SNS would serve for it.
type Signer struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
	PEM  []byte

	mu      sync.Mutex
	fetched []string
}

// NewSigner makes a 2048-bit RSA key and a self-signed certificate valid
// from notBefore to notAfter.
func NewSigner(t testing.TB, notBefore, notAfter time.Time) *Signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{Key: key, Cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Fetch serves the certificate for any URL and records the URL. Its type
// is snsverify.Fetcher.
func (s *Signer) Fetch(_ context.Context, certURL string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetched = append(s.fetched, certURL)
	return s.PEM, nil
}

// Fetched returns the URLs Fetch was called with, in order.
func (s *Signer) Fetched() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.fetched...)
}

// Sign sets env["Signature"] to the signature of env's string to sign,
// hashing as env["SignatureVersion"] says ("1" SHA1, otherwise SHA256),
// and returns env as JSON.
func (s *Signer) Sign(t testing.TB, env map[string]any) []byte {
	t.Helper()
	var hash crypto.Hash
	var digest []byte
	if env["SignatureVersion"] == "1" {
		d := sha1.Sum(StringToSign(env)) //nolint:gosec // see import
		hash, digest = crypto.SHA1, d[:]
	} else {
		d := sha256.Sum256(StringToSign(env))
		hash, digest = crypto.SHA256, d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.Key, hash, digest)
	if err != nil {
		t.Fatal(err)
	}
	env["Signature"] = base64.StdEncoding.EncodeToString(sig)
	body, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// StringToSign follows "Verifying the signatures of Amazon SNS messages":
// Notification signs Message, MessageId, Subject (if present), Timestamp,
// TopicArn, Type; the confirmations sign Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn, Type; each as "key\nvalue\n".
func StringToSign(env map[string]any) []byte {
	keys := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if env["Type"] != "Notification" {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b []byte
	for _, k := range keys {
		v, ok := env[k]
		if !ok {
			continue
		}
		s, _ := v.(string)
		b = append(b, k+"\n"+s+"\n"...)
	}
	return b
}

// FixtureDir finds the SES fixtures: $SES_FIXTURES, or shared/data/ses in
// the working directory or one of its parents (the repository sits beside
// shared/, so from a package directory that is ../../../shared/data/ses).
func FixtureDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("SES_FIXTURES"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "shared", "data", "ses")
		if _, err := os.Stat(filepath.Join(candidate, "sns-envelope-bounce.json")); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("SES fixtures not found: set SES_FIXTURES or keep shared/data/ses beside the repository")
		}
		dir = parent
	}
}

// Envelope reads an SNS envelope fixture (sns-envelope-bounce.json,
// sns-subscription-confirmation.json) as a map to change and sign.
func Envelope(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(FixtureDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env
}
