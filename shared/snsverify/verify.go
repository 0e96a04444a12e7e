package snsverify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SignatureVersion 1 is SHA1withRSA by AWS's definition
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Verification errors. Each failure wraps one of them, with a reason fit for
// the logs (never the message body).
var (
	// ErrTopicNotAllowed: the TopicArn is not on the allow-list.
	ErrTopicNotAllowed = errors.New("snsverify: topic not allowed")
	// ErrCertificateURL: SigningCertURL is not an SNS certificate URL.
	ErrCertificateURL = errors.New("snsverify: certificate URL invalid")
	// ErrSubscribeURL: a confirmation's SubscribeURL is not an SNS URL for its topic.
	ErrSubscribeURL = errors.New("snsverify: subscribe URL invalid")
	// ErrSignature: the signature, its version or the certificate is wrong.
	ErrSignature = errors.New("snsverify: signature invalid")
	// ErrTooOld: the Timestamp is older than Verifier.MaxAge allows.
	ErrTooOld = errors.New("snsverify: message too old")
	// ErrCertificateUnavailable: the certificate could not be fetched just
	// now (network, SNS answered 5xx). Worth retrying, unlike the others.
	ErrCertificateUnavailable = errors.New("snsverify: certificate unavailable")
)

// Fetcher returns the PEM bytes at certURL. Verify calls it only with a URL
// CheckCertURL accepted. An error wrapping ErrSignature says the URL holds
// no certificate (SNS answered 404, say); any other error is taken as
// transient (ErrCertificateUnavailable).
type Fetcher func(ctx context.Context, certURL string) ([]byte, error)

// Verifier verifies SNS messages. Build it with NewVerifier; it is safe for
// concurrent use.
type Verifier struct {
	topics map[string]bool
	certs  *certCache

	// MaxAge, when positive, refuses a message whose Timestamp is older.
	// Zero (the default) does not look at the age: SNS may retry a
	// delivery for longer than an hour under a custom delivery policy, a
	// replayed message changes nothing downstream (ingest is idempotent),
	// and a message outlives its certificate by no more than the
	// certificate's validity, which is checked.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewVerifier accepts messages from the exact topic ARNs given, fetching
// certificates through fetch (HTTPFetcher in production).
func NewVerifier(allowedTopicArns []string, fetch Fetcher) *Verifier {
	topics := make(map[string]bool, len(allowedTopicArns))
	for _, arn := range allowedTopicArns {
		topics[arn] = true
	}
	return &Verifier{topics: topics, certs: newCertCache(fetch, maxCachedCerts)}
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Verify checks m: signature version, topic, certificate URL, SubscribeURL
// (confirmations), age (if MaxAge is set), then, only when all of those
// pass, fetches the certificate (cached) and checks the signature. Nothing
// is fetched for a message that fails a check that needs no network.
func (v *Verifier) Verify(ctx context.Context, m *Message) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: unsupported SignatureVersion %.10q", ErrSignature, m.SignatureVersion)
	}
	if !v.topics[m.TopicArn] {
		return fmt.Errorf("%w: topic is not on the allow-list", ErrTopicNotAllowed)
	}
	if err := CheckCertURL(m.SigningCertURL); err != nil {
		return err
	}
	if m.IsConfirmation() {
		if err := CheckSubscribeURL(m.SubscribeURL, m.TopicArn); err != nil {
			return err
		}
	}
	if v.MaxAge > 0 {
		ts, err := time.Parse(time.RFC3339Nano, m.Timestamp)
		if err != nil {
			return fmt.Errorf("%w: Timestamp is not RFC 3339", ErrSignature)
		}
		if age := v.now().Sub(ts); age > v.MaxAge {
			return fmt.Errorf("%w: sent %s ago", ErrTooOld, age.Round(time.Second))
		}
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	cert, err := v.certs.get(ctx, m.SigningCertURL, v.now())
	if err != nil {
		return err
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: certificate key is not RSA", ErrSignature)
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum(m.StringToSign()) //nolint:gosec // see import
		digest = d[:]
	} else {
		d := sha256.Sum256(m.StringToSign())
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest, sig); err != nil {
		return fmt.Errorf("%w: signature does not match (version %s)", ErrSignature, m.SignatureVersion)
	}
	return nil
}
