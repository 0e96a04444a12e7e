package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const emailEventsTemplate = "../testdata/email-events.yaml"

// TestParseEmailEventsTemplate: the topic, its subscription, the queue
// policy and the webhook's environment resolve to local values, the !If /
// !Join on ExtraAllowedTopicArns included.
func TestParseEmailEventsTemplate(t *testing.T) {
	b, err := os.ReadFile(emailEventsTemplate)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := ParseTemplate(b, "http://127.0.0.1:4999")
	if err != nil {
		t.Fatal(err)
	}
	const topic = "arn:aws:sns:us-east-1:123456789012:EmailEventsTopic"
	if want := []Topic{{LogicalID: "EmailEventsTopic", Name: "EmailEventsTopic", ARN: topic}}; !reflect.DeepEqual(tmpl.Topics, want) {
		t.Errorf("topics = %+v, want %+v", tmpl.Topics, want)
	}
	wantSub := []Subscription{{LogicalID: "EmailEventsSubscription", TopicARN: topic, Protocol: "sqs",
		Endpoint: "arn:aws:sqs:us-east-1:123456789012:EmailEventsQueue", Attributes: map[string]string{"RawMessageDelivery": "false"}}}
	if !reflect.DeepEqual(tmpl.Subscriptions, wantSub) {
		t.Errorf("subscriptions = %+v, want %+v", tmpl.Subscriptions, wantSub)
	}
	if len(tmpl.QueuePolicies) != 1 || !reflect.DeepEqual(tmpl.QueuePolicies[0].Queues, []string{"EmailEventsQueue"}) ||
		!strings.Contains(tmpl.QueuePolicies[0].Policy, `"aws:SourceArn":"`+topic+`"`) {
		t.Errorf("queue policies = %+v", tmpl.QueuePolicies)
	}
	var ingest, webhook Function
	for _, fn := range tmpl.Functions {
		switch fn.Name {
		case "IngestFunction":
			ingest = fn
		case "WebhookFunction":
			webhook = fn
		}
	}
	wantQ := []QueueEvent{{Queue: "EmailEventsQueue", BatchSize: 10, BatchingWindow: 1, ReportBatchItemFailures: true}}
	if !reflect.DeepEqual(ingest.Queues, wantQ) {
		t.Errorf("ingest queues = %+v, want %+v", ingest.Queues, wantQ)
	}
	wantEnv := map[string]string{"QUEUE_URL": "http://127.0.0.1:4999/123456789012/EmailEventsQueue", "ALLOWED_TOPIC_ARNS": topic}
	if !reflect.DeepEqual(webhook.Environment, wantEnv) {
		t.Errorf("webhook env = %v, want %v", webhook.Environment, wantEnv)
	}
	if len(webhook.Routes) != 1 || !webhook.Routes[0].Public || webhook.Routes[0].Key() != "POST /webhooks/ses" {
		t.Errorf("webhook routes = %+v, want public POST /webhooks/ses", webhook.Routes)
	}

	// With extra topics the condition turns and the list is joined.
	const extra = "arn:aws:sns:eu-west-1:210987654321:other"
	b2 := strings.Replace(string(b), `Default: ""`, `Default: "`+extra+`"`, 1)
	tmpl, err = ParseTemplate([]byte(b2), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range tmpl.Functions {
		if fn.Name == "WebhookFunction" {
			if got := fn.Environment["ALLOWED_TOPIC_ARNS"]; got != topic+","+extra {
				t.Errorf("ALLOWED_TOPIC_ARNS = %q, want %q", got, topic+","+extra)
			}
		}
	}
}

// TestTopicToQueueEventSource runs the pipeline in moto: a message published
// to the topic reaches the queue as an SNS envelope and the function through
// the event source; the success is deleted, the reported failure comes back
// after the (overridden, 1 s) visibility timeout and lands in the DLQ after
// maxReceiveCount receives, still as the envelope.
func TestTopicToQueueEventSource(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	moto := motoServer(t)
	ctx := context.Background()
	r, err := Start(ctx, Config{
		Root:                   t.TempDir(),
		Template:               emailEventsTemplate,
		Addr:                   "127.0.0.1:0",
		EmulatorAddr:           freeAddr(t),
		EmulatorCommand:        moto,
		QueueVisibilityTimeout: 1,
		Build:                  echoBuild,
		Logger:                 slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	main, dlq := r.queueURLs["EmailEventsQueue"], r.queueURLs["EmailEventsDLQ"]
	attrs := func(url string, names ...string) map[string]string {
		var out struct{ Attributes map[string]string }
		if err := r.emulator.sqs(ctx, "GetQueueAttributes", map[string]any{"QueueUrl": url, "AttributeNames": names}, &out); err != nil {
			t.Fatal(err)
		}
		return out.Attributes
	}
	a := attrs(main, "VisibilityTimeout", "Policy", "RedrivePolicy")
	if a["VisibilityTimeout"] != "1" || !strings.Contains(a["Policy"], "sns.amazonaws.com") || !strings.Contains(a["RedrivePolicy"], "EmailEventsDLQ") {
		t.Errorf("queue attributes = %v; want the 1 s override, the template's policy and redrive", a)
	}

	topic := r.topicARNs["EmailEventsTopic"]
	for _, msg := range []string{"ok", "fail"} {
		if _, err := r.emulator.Publish(ctx, topic, msg); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := attrs(main, "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
		d := attrs(dlq, "ApproximateNumberOfMessages")
		if m["ApproximateNumberOfMessages"] == "0" && m["ApproximateNumberOfMessagesNotVisible"] == "0" && d["ApproximateNumberOfMessages"] == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s: main %v, dlq %v; want empty and 1", m, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
	var got struct {
		Messages []struct {
			Body       string
			Attributes map[string]string
		}
	}
	if err := r.emulator.sqs(ctx, "ReceiveMessage", map[string]any{"QueueUrl": dlq, "MessageSystemAttributeNames": []string{"All"}}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("dlq = %+v", got.Messages)
	}
	var env struct{ Type, TopicArn, Message, MessageId string }
	if err := json.Unmarshal([]byte(got.Messages[0].Body), &env); err != nil {
		t.Fatalf("dlq body is not an SNS envelope: %v\n%s", err, got.Messages[0].Body)
	}
	if env.Type != "Notification" || env.TopicArn != topic || env.Message != "fail" || env.MessageId == "" {
		t.Errorf("envelope = %+v; want the failed notification from %s", env, topic)
	}
}

// TestCompactRecordingDropsPublish: topics and subscriptions are replayed
// after a restart, publishes are not (they would deliver old events again).
func TestCompactRecordingDropsPublish(t *testing.T) {
	entry := func(auth, contentType, target, body string) string {
		h := map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/" + auth + "/aws4_request",
			"Content-Type": contentType}
		if target != "" {
			h["X-Amz-Target"] = target
		}
		b, _ := json.Marshal(map[string]any{"headers": h, "method": "POST", "url": "http://127.0.0.1:4566/",
			"body": base64.StdEncoding.EncodeToString([]byte(body)), "body_encoded": true})
		return string(b)
	}
	form := "application/x-www-form-urlencoded"
	lines := []string{
		entry("sns", form, "", "Action=CreateTopic&Name=EmailEventsTopic&Version=2010-03-31"),
		entry("sns", form, "", "Action=Subscribe&TopicArn=arn&Protocol=sqs&Version=2010-03-31"),
		entry("sns", form, "", "Action=Publish&TopicArn=arn&Message=%7B%7D&Version=2010-03-31"),
		entry("sns", form, "", "Action=ListTopics&Version=2010-03-31"),
		entry("dynamodb", "application/x-amz-json-1.0", "DynamoDB_20120810.PutItem", `{"TableName":"t"}`),
	}
	path := filepath.Join(t.TempDir(), RecordingFile)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := compactRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	kept := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{lines[0], lines[1], lines[4]}
	if n != 3 || !reflect.DeepEqual(kept, want) {
		t.Errorf("kept %d:\n%s\nwant CreateTopic, Subscribe and PutItem", n, strings.Join(kept, "\n"))
	}
}
