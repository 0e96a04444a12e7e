package snsverify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/creator-platform/contacts/shared/snsverify"
	"github.com/creator-platform/contacts/shared/snsverify/snstest"
)

const (
	topic       = "arn:aws:sns:us-east-1:123456789012:profiles-ses-events"
	notifyFile  = "sns-envelope-bounce.json"
	confirmFile = "sns-subscription-confirmation.json"
)

func newSigner(t *testing.T) *snstest.Signer {
	return snstest.NewSigner(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

func verify(t *testing.T, v *snsverify.Verifier, body []byte) error {
	t.Helper()
	m, err := snsverify.Parse(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return v.Verify(context.Background(), m)
}

func TestVerify(t *testing.T) {
	s3 := "https://s3.amazonaws.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"
	tests := []struct {
		name    string
		file    string
		before  func(env map[string]any) // changes signed
		after   func(env map[string]any) // changes made after signing
		want    error                    // nil: verifies
		fetches int                      // certificate fetches expected
	}{
		{name: "notification v1", file: notifyFile, before: set("SignatureVersion", "1"), fetches: 1},
		{name: "notification v2", file: notifyFile, before: set("SignatureVersion", "2"), fetches: 1},
		{name: "notification with a subject", file: notifyFile, before: set("Subject", "Amazon SES Email Event Notification"), fetches: 1},
		{name: "notification with an empty subject", file: notifyFile, before: set("Subject", ""), fetches: 1},
		{name: "notification with message attributes", file: notifyFile, before: set("MessageAttributes", map[string]any{"k": map[string]any{"Type": "String", "Value": "v"}}), fetches: 1},
		{name: "China region", file: notifyFile, before: set("SigningCertURL", "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem"), fetches: 1},
		{name: "subscription confirmation v1", file: confirmFile, before: set("SignatureVersion", "1"), fetches: 1},
		{name: "subscription confirmation v2", file: confirmFile, before: set("SignatureVersion", "2"), fetches: 1},
		{name: "unsubscribe confirmation", file: confirmFile, before: set("Type", "UnsubscribeConfirmation"), fetches: 1},

		{name: "message changed by one byte", file: notifyFile, after: edit("Message", func(s string) string { return strings.Replace(s, "Permanent", "Permanenu", 1) }), want: snsverify.ErrSignature, fetches: 1},
		{name: "subject added after signing", file: notifyFile, after: set("Subject", "hi"), want: snsverify.ErrSignature, fetches: 1},
		{name: "timestamp changed", file: notifyFile, after: set("Timestamp", "2026-11-20T14:59:42.002Z"), want: snsverify.ErrSignature, fetches: 1},
		{name: "type changed to confirmation", file: notifyFile, after: func(env map[string]any) {
			env["Type"], env["Token"] = "UnsubscribeConfirmation", "x"
			env["SubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic
		}, want: snsverify.ErrSignature, fetches: 1},
		{name: "confirmation token changed", file: confirmFile, after: set("Token", "0000"), want: snsverify.ErrSignature, fetches: 1},
		{name: "v1 signature presented as v2", file: notifyFile, before: set("SignatureVersion", "1"), after: set("SignatureVersion", "2"), want: snsverify.ErrSignature, fetches: 1},
		{name: "signature not base64", file: notifyFile, after: set("Signature", "not base64!"), want: snsverify.ErrSignature},
		{name: "signature version 3", file: notifyFile, before: set("SignatureVersion", "3"), want: snsverify.ErrSignature},
		{name: "signature version 0", file: notifyFile, before: set("SignatureVersion", "0"), want: snsverify.ErrSignature},

		{name: "topic not allowed", file: notifyFile, before: set("TopicArn", "arn:aws:sns:us-east-1:999999999999:profiles-ses-events"), want: snsverify.ErrTopicNotAllowed},
		{name: "topic differs by case", file: notifyFile, before: set("TopicArn", strings.ToUpper(topic)), want: snsverify.ErrTopicNotAllowed},

		{name: "certificate over http", file: notifyFile, before: set("SigningCertURL", "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"), want: snsverify.ErrCertificateURL},
		{name: "certificate on S3", file: notifyFile, before: set("SigningCertURL", s3), want: snsverify.ErrCertificateURL},
		{name: "certificate on an S3 bucket named like SNS", file: notifyFile, before: set("SigningCertURL", "https://sns.us-east-1.amazonaws.com.s3.amazonaws.com/SimpleNotificationService-abc.pem"), want: snsverify.ErrCertificateURL},
		{name: "certificate on a look-alike host", file: notifyFile, before: set("SigningCertURL", "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem"), want: snsverify.ErrCertificateURL},
		{name: "certificate at a wrong path", file: notifyFile, before: set("SigningCertURL", "https://sns.us-east-1.amazonaws.com/evil/SimpleNotificationService-abc.pem"), want: snsverify.ErrCertificateURL},

		{name: "subscribe URL on another host", file: confirmFile, before: set("SubscribeURL", "https://evil.example/?Action=ConfirmSubscription&TopicArn="+topic), want: snsverify.ErrSubscribeURL},
		{name: "subscribe URL over http", file: confirmFile, before: set("SubscribeURL", "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="+topic), want: snsverify.ErrSubscribeURL},
		{name: "subscribe URL for another topic", file: confirmFile, before: set("SubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:999999999999:other"), want: snsverify.ErrSubscribeURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signer := newSigner(t)
			v := snsverify.NewVerifier([]string{topic}, signer.Fetch)
			env := snstest.Envelope(t, tt.file)
			if tt.before != nil {
				tt.before(env)
			}
			signer.Sign(t, env)
			if tt.after != nil {
				tt.after(env)
			}
			body := marshal(t, env)
			err := verify(t, v, body)
			if tt.want == nil && err != nil {
				t.Fatalf("want verified, got %v", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
			if got := len(signer.Fetched()); got != tt.fetches {
				t.Fatalf("certificate fetched %d times, want %d (%v)", got, tt.fetches, signer.Fetched())
			}
		})
	}
}

func TestSignedByAnotherKeyIsRefused(t *testing.T) {
	served, attacker := newSigner(t), newSigner(t)
	v := snsverify.NewVerifier([]string{topic}, served.Fetch)
	if err := verify(t, v, attacker.Sign(t, snstest.Envelope(t, notifyFile))); !errors.Is(err, snsverify.ErrSignature) {
		t.Fatalf("want ErrSignature, got %v", err)
	}
}

func TestCertificateIsCachedPerURL(t *testing.T) {
	signer := newSigner(t)
	v := snsverify.NewVerifier([]string{topic}, signer.Fetch)
	for i := range 2 {
		if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := len(signer.Fetched()); got != 1 {
		t.Fatalf("fetched %d times for two messages, want 1", got)
	}
	env := snstest.Envelope(t, notifyFile)
	env["SigningCertURL"] = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-rotated.pem"
	if err := verify(t, v, signer.Sign(t, env)); err != nil {
		t.Fatal(err)
	}
	if got := len(signer.Fetched()); got != 2 {
		t.Fatalf("a new certificate URL was not fetched: %d fetches", got)
	}
}

func TestExpiredCertificateIsRefused(t *testing.T) {
	expired := snstest.NewSigner(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	v := snsverify.NewVerifier([]string{topic}, expired.Fetch)
	if err := verify(t, v, expired.Sign(t, snstest.Envelope(t, notifyFile))); !errors.Is(err, snsverify.ErrSignature) {
		t.Fatalf("want ErrSignature, got %v", err)
	}
}

func TestCachedCertificateIsRefusedOnceExpired(t *testing.T) {
	signer := snstest.NewSigner(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	v := snsverify.NewVerifier([]string{topic}, signer.Fetch)
	if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); err != nil {
		t.Fatal(err)
	}
	v.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); !errors.Is(err, snsverify.ErrSignature) {
		t.Fatalf("want ErrSignature after NotAfter, got %v", err)
	}
	if got := len(signer.Fetched()); got != 2 {
		t.Fatalf("an expired cached certificate should be fetched again, fetched %d times", got)
	}
}

func TestCertificateFetchFailureIsTransient(t *testing.T) {
	signer := newSigner(t)
	down := func(context.Context, string) ([]byte, error) { return nil, errors.New("connection reset") }
	v := snsverify.NewVerifier([]string{topic}, down)
	if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); !errors.Is(err, snsverify.ErrCertificateUnavailable) {
		t.Fatalf("want ErrCertificateUnavailable, got %v", err)
	}
	notPEM := func(context.Context, string) ([]byte, error) { return []byte("<html>hello</html>"), nil }
	v = snsverify.NewVerifier([]string{topic}, notPEM)
	if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); !errors.Is(err, snsverify.ErrSignature) {
		t.Fatalf("want ErrSignature for a page that is not a certificate, got %v", err)
	}
}

func TestMaxAge(t *testing.T) {
	sent := time.Date(2026, 11, 20, 14, 59, 41, 2e6, time.UTC) // the fixture's Timestamp
	signer := snstest.NewSigner(t, sent.Add(-24*time.Hour), sent.Add(24*time.Hour))
	v := snsverify.NewVerifier([]string{topic}, signer.Fetch)
	v.MaxAge = time.Hour
	v.Now = func() time.Time { return sent.Add(59 * time.Minute) }
	if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); err != nil {
		t.Fatalf("59 minutes old: %v", err)
	}
	v.Now = func() time.Time { return sent.Add(61 * time.Minute) }
	if err := verify(t, v, signer.Sign(t, snstest.Envelope(t, notifyFile))); !errors.Is(err, snsverify.ErrTooOld) {
		t.Fatalf("61 minutes old: want ErrTooOld, got %v", err)
	}
}

func TestCheckCertURL(t *testing.T) {
	ok := []string{
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
		"https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.cn-northwest-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
	}
	bad := []string{
		"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://s3.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com.s3.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
		"https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-abc.pem",
		"https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com:/SimpleNotificationService-abc.pem",
		"https://54.239.28.85/SimpleNotificationService-abc.pem",
		"https://[::1]/SimpleNotificationService-abc.pem",
		"https://sns.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com.cn.evil.example/SimpleNotificationService-abc.pem",
		"https://evilsns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https://SNS.US-EAST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1",
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem#x",
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.crt",
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService/../x.pem",
		"https://sns.us-east-1.amazonaws.com/SimpleNotificationService%2F..%2Fx.pem",
		"https://sns.us-east-1.amazonaws.com/x/SimpleNotificationService-abc.pem",
		"https://sns.us-east-1.amazonaws.com",
		"//sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"https:sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
		"",
	}
	for _, u := range ok {
		if err := snsverify.CheckCertURL(u); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	for _, u := range bad {
		if err := snsverify.CheckCertURL(u); !errors.Is(err, snsverify.ErrCertificateURL) {
			t.Errorf("%q accepted (err %v)", u, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	valid := `"Type":"Notification","MessageId":"m","TopicArn":"` + topic + `","Message":"hi","Timestamp":"2026-11-20T14:59:41.002Z","SignatureVersion":"2","Signature":"c2ln","SigningCertURL":"https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem"`
	tests := []struct {
		name, body string
		want       error
	}{
		{"not JSON", `{"Type":`, snsverify.ErrMalformedJSON},
		{"an array", `[` + `{` + valid + `}]`, snsverify.ErrMalformedJSON},
		{"two values", `{` + valid + `}{}`, snsverify.ErrMalformedJSON},
		{"a key twice", `{` + valid + `,"Message":"evil"}`, snsverify.ErrMalformedJSON},
		{"a key twice in another case", `{` + valid + `,"message":"evil"}`, snsverify.ErrMalformedJSON},
		{"a signed key in another case", `{"message":"hi"}`, snsverify.ErrMalformedJSON},
		{"a number for a string", `{` + strings.Replace(valid, `"SignatureVersion":"2"`, `"SignatureVersion":2`, 1) + `}`, snsverify.ErrMalformedJSON},
		{"not UTF-8", "{\"Message\":\"\xff\"}", snsverify.ErrMalformedJSON},
		{"no type", `{"Message":"hi"}`, snsverify.ErrMalformedMessage},
		{"unknown type", `{` + strings.Replace(valid, "Notification", "Other", 1) + `}`, snsverify.ErrMalformedMessage},
		{"no signature", `{` + strings.Replace(valid, `"Signature":"c2ln",`, ``, 1) + `}`, snsverify.ErrMalformedMessage},
		{"confirmation without token", `{` + strings.Replace(valid, "Notification", "SubscriptionConfirmation", 1) + `}`, snsverify.ErrMalformedMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := snsverify.Parse([]byte(tt.body)); !errors.Is(err, tt.want) {
				t.Fatalf("want %v, got %v", tt.want, err)
			}
		})
	}
	if _, err := snsverify.Parse([]byte(`{` + valid + `,"Subject":null,"Extra":{"a":[1]}}`)); err != nil {
		t.Fatalf("a valid message with a null subject and an extra key: %v", err)
	}
}

func TestHTTPFetcher(t *testing.T) {
	signer := newSigner(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/ok.pem", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(signer.PEM) })
	mux.HandleFunc("/big.pem", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", snsverify.MaxCertBytes+1)))
	})
	mux.HandleFunc("/down.pem", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved.pem", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok.pem", http.StatusFound) })
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	client := snsverify.NewHTTPClient()
	client.Transport = srv.Client().Transport // trust the test server, keep the redirect policy

	fetch := snsverify.HTTPFetcher(client)
	ctx := context.Background()
	if b, err := fetch(ctx, srv.URL+"/ok.pem"); err != nil || string(b) != string(signer.PEM) {
		t.Fatalf("ok: %v", err)
	}
	for path, want := range map[string]error{"/missing.pem": snsverify.ErrSignature, "/big.pem": snsverify.ErrSignature, "/moved.pem": snsverify.ErrSignature} {
		if _, err := fetch(ctx, srv.URL+path); !errors.Is(err, want) {
			t.Errorf("%s: want %v, got %v", path, want, err)
		}
	}
	if _, err := fetch(ctx, srv.URL+"/down.pem"); err == nil || errors.Is(err, snsverify.ErrSignature) {
		t.Errorf("a 503 should be a transient error, got %v", err)
	}
}

// set returns a change setting key to value.
func set(key string, value any) func(map[string]any) {
	return func(env map[string]any) { env[key] = value }
}

// edit returns a change rewriting the string at key.
func edit(key string, f func(string) string) func(map[string]any) {
	return func(env map[string]any) { env[key] = f(env[key].(string)) }
}

// marshal returns env as a request body, as it stands.
func marshal(t *testing.T, env map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
