package webhook_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/creator-platform/contacts/shared/snsverify"
	"github.com/creator-platform/contacts/shared/snsverify/snstest"
	"github.com/creator-platform/contacts/shared/webhook"
)

const (
	topic       = "arn:aws:sns:us-east-1:123456789012:profiles-ses-events"
	notifyFile  = "sns-envelope-bounce.json"
	confirmFile = "sns-subscription-confirmation.json"
)

// fakeQueue records what was sent; err, when set, fails every send.
type fakeQueue struct {
	sent []string
	err  error
}

func (q *fakeQueue) Send(_ context.Context, body string) error {
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, body)
	return nil
}

// fakeSNS answers the confirmation GETs with status and records the URLs.
type fakeSNS struct {
	status int
	err    error
	got    []string
}

func (f *fakeSNS) Do(req *http.Request) (*http.Response, error) {
	f.got = append(f.got, req.Method+" "+req.URL.String())
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Body: io.NopCloser(strings.NewReader("<ConfirmSubscriptionResponse/>"))}, nil
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
}

func TestHandle(t *testing.T) {
	badCert := func(u string) func(map[string]any) { return set("SigningCertURL", u) }
	tests := []struct {
		name      string
		file      string
		before    func(map[string]any) // signed
		after     func(map[string]any) // after signing
		body      string               // when set, sent instead of the fixture
		base64    bool
		queueErr  error
		snsStatus int
		fetchErr  error

		status    int
		code      string
		forwarded bool // the exact body reached the queue, once
		confirmed bool // the SubscribeURL was fetched, once
		fetches   int  // certificate fetches
	}{
		{name: "notification v1 is forwarded", file: notifyFile, before: set("SignatureVersion", "1"), status: 200, forwarded: true, fetches: 1},
		{name: "notification v2 is forwarded", file: notifyFile, before: set("SignatureVersion", "2"), status: 200, forwarded: true, fetches: 1},
		{name: "base64 body is forwarded decoded", file: notifyFile, base64: true, status: 200, forwarded: true, fetches: 1},
		{name: "subscription v1 is confirmed", file: confirmFile, before: set("SignatureVersion", "1"), status: 200, confirmed: true, fetches: 1},
		{name: "subscription v2 is confirmed", file: confirmFile, before: set("SignatureVersion", "2"), status: 200, confirmed: true, fetches: 1},
		{name: "unsubscribe is acknowledged only", file: confirmFile, before: set("Type", "UnsubscribeConfirmation"), status: 200, fetches: 1},

		{name: "message altered by one byte", file: notifyFile, after: edit("Message", func(s string) string { return strings.Replace(s, `"Permanent"`, `"Transient"`, 1) }), status: 403, code: "signature_invalid", fetches: 1},
		{name: "signature version 3", file: notifyFile, before: set("SignatureVersion", "3"), status: 403, code: "signature_invalid"},
		{name: "topic not allowed", file: notifyFile, before: set("TopicArn", "arn:aws:sns:us-east-1:999999999999:someone-else"), status: 403, code: "topic_not_allowed"},
		{name: "certificate over plain http", file: notifyFile, before: badCert("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem"), status: 403, code: "certificate_url_invalid"},
		{name: "certificate on S3", file: notifyFile, before: badCert("https://s3.amazonaws.com/SimpleNotificationService-a.pem"), status: 403, code: "certificate_url_invalid"},
		{name: "certificate in an S3 bucket named like SNS", file: notifyFile, before: badCert("https://sns.us-east-1.amazonaws.com.s3.amazonaws.com/SimpleNotificationService-a.pem"), status: 403, code: "certificate_url_invalid"},
		{name: "certificate on a look-alike host", file: notifyFile, before: badCert("https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-a.pem"), status: 403, code: "certificate_url_invalid"},
		{name: "certificate behind user info", file: notifyFile, before: badCert("https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-a.pem"), status: 403, code: "certificate_url_invalid"},
		{name: "certificate at a wrong path", file: notifyFile, before: badCert("https://sns.us-east-1.amazonaws.com/certs/evil.pem"), status: 403, code: "certificate_url_invalid"},
		{name: "subscribe URL on another host", file: confirmFile, before: set("SubscribeURL", "https://evil.example/?Action=ConfirmSubscription&TopicArn="+topic), status: 403, code: "subscribe_url_invalid"},
		{name: "subscribe URL on a look-alike host", file: confirmFile, before: set("SubscribeURL", "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription&TopicArn="+topic), status: 403, code: "subscribe_url_invalid"},
		{name: "subscribe URL swapped after signing", file: confirmFile, after: set("SubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="+topic+"&Token=other"), status: 403, code: "signature_invalid", fetches: 1},

		{name: "malformed JSON", body: `{"Type":"Notification",`, status: 400, code: "malformed_json"},
		{name: "duplicate Message key", body: `{"Message":"a","Message":"b"}`, status: 400, code: "malformed_json"},
		{name: "not an SNS message", body: `{"eventType":"Bounce"}`, status: 400, code: "malformed_message"},
		{name: "body over the limit", body: `{"Message":"` + strings.Repeat("a", 1<<20) + `"}`, status: 413, code: "body_too_large"},
		{name: "a 256 KiB message is not refused for its size", body: `{"Message":"` + strings.Repeat("a", 256<<10) + `"}`, status: 400, code: "malformed_message"},

		{name: "queue down: SNS retries", file: notifyFile, queueErr: errors.New("sqs: throttled"), status: 500, code: "internal", fetches: 1},
		{name: "confirmation refused by SNS: SNS retries", file: confirmFile, snsStatus: 403, status: 500, code: "internal", confirmed: true, fetches: 1},
		{name: "certificate host down: SNS retries", file: notifyFile, fetchErr: errors.New("dial tcp: i/o timeout"), status: 500, code: "internal", fetches: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := captureLogs(t)
			signer := snstest.NewSigner(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
			fetches := 0
			fetch := func(ctx context.Context, u string) ([]byte, error) {
				fetches++
				if tt.fetchErr != nil {
					return nil, tt.fetchErr
				}
				return signer.Fetch(ctx, u)
			}
			queue := &fakeQueue{err: tt.queueErr}
			sns := &fakeSNS{status: 200}
			if tt.snsStatus != 0 {
				sns.status = tt.snsStatus
			}
			h := webhook.New(snsverify.NewVerifier([]string{topic}, fetch), queue, sns)

			var env map[string]any
			body := tt.body
			if body == "" {
				env = snstest.Envelope(t, tt.file)
				if tt.before != nil {
					tt.before(env)
				}
				signer.Sign(t, env)
				if tt.after != nil {
					tt.after(env)
				}
				b, err := json.Marshal(env)
				if err != nil {
					t.Fatal(err)
				}
				body = string(b)
			}
			req := events.APIGatewayV2HTTPRequest{
				RawPath: "/webhooks/ses",
				Headers: map[string]string{"content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"},
				Body:    body,
			}
			if tt.base64 {
				req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
			}

			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle returned an error (Lambda would retry or report a crash): %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.code != "" {
				var p problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Code != tt.code || resp.Headers["Content-Type"] != "application/problem+json" {
					t.Fatalf("want problem+json code %q, got %s %q", tt.code, resp.Headers["Content-Type"], resp.Body)
				}
			}
			if tt.forwarded {
				if len(queue.sent) != 1 || queue.sent[0] != body {
					t.Fatalf("want the original body forwarded once, got %d messages", len(queue.sent))
				}
			} else if len(queue.sent) != 0 {
				t.Fatalf("nothing should reach the queue, got %d messages", len(queue.sent))
			}
			if tt.confirmed {
				if len(sns.got) != 1 || sns.got[0] != "GET "+env["SubscribeURL"].(string) {
					t.Fatalf("want one GET of the SubscribeURL, got %v", sns.got)
				}
			} else if len(sns.got) != 0 {
				t.Fatalf("no confirmation should be fetched, got %v", sns.got)
			}
			if fetches != tt.fetches {
				t.Fatalf("certificate fetched %d times, want %d", fetches, tt.fetches)
			}
			if strings.Contains(logs.String(), "simulator.amazonses.com") || strings.Contains(logs.String(), "aaaaaaaa") {
				t.Fatalf("the message body reached the logs: %s", logs)
			}
		})
	}
}

func TestCertificateIsFetchedOnceForTwoMessages(t *testing.T) {
	captureLogs(t)
	signer := snstest.NewSigner(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	queue := &fakeQueue{}
	h := webhook.New(snsverify.NewVerifier([]string{topic}, signer.Fetch), queue, &fakeSNS{status: 200})
	for i := range 2 {
		env := snstest.Envelope(t, notifyFile)
		env["MessageId"] = env["MessageId"].(string) + string(rune('a'+i))
		resp, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{Body: string(signer.Sign(t, env))})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("message %d: %d %v", i, resp.StatusCode, err)
		}
	}
	if len(queue.sent) != 2 || len(signer.Fetched()) != 1 {
		t.Fatalf("want 2 forwarded and 1 certificate fetch, got %d and %d", len(queue.sent), len(signer.Fetched()))
	}
}

func TestExpiredCertificateIsRefused(t *testing.T) {
	captureLogs(t)
	signer := snstest.NewSigner(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Minute))
	queue := &fakeQueue{}
	h := webhook.New(snsverify.NewVerifier([]string{topic}, signer.Fetch), queue, &fakeSNS{status: 200})
	resp, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{Body: string(signer.Sign(t, snstest.Envelope(t, notifyFile)))})
	if err != nil || resp.StatusCode != 403 || !strings.Contains(resp.Body, `"signature_invalid"`) || len(queue.sent) != 0 {
		t.Fatalf("want 403 signature_invalid and nothing sent, got %d %s %v (%d sent)", resp.StatusCode, resp.Body, err, len(queue.sent))
	}
}

// captureLogs sends the default logger to a buffer for the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func set(key string, value any) func(map[string]any) {
	return func(env map[string]any) { env[key] = value }
}

func edit(key string, f func(string) string) func(map[string]any) {
	return func(env map[string]any) { env[key] = f(env[key].(string)) }
}
