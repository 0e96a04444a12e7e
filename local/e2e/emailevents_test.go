package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/creator-platform/contacts/local/runner"
)

// queues returns an SQS client on the emulator and the URLs of the email
// events queue and its dead-letter queue, by logical id.
func queues(t *testing.T) (*sqs.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(cfg)
	tmpl, err := runner.LoadTemplate("../../template.yaml", os.Getenv("AWS_ENDPOINT_URL"))
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for _, q := range tmpl.Queues {
		out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.Name)})
		if err != nil {
			t.Fatalf("queue %s: %v", q.Name, err)
		}
		urls[q.LogicalID] = *out.QueueUrl
	}
	return client, urls["EmailEventsQueue"], urls["EmailEventsDLQ"]
}

// sesEvent is a configuration-set Delivery event for one tagged contact, in
// the SNS envelope the topic wraps it in.
func sesEvent(site, contactID, email, messageID string) string {
	inner := fmt.Sprintf(`{"eventType":"Delivery","mail":{"timestamp":"%s","messageId":%q,"destination":[%q],"tags":{"site":[%q],"contact":[%q],"campaign":["e2e"],"campaign_kind":["broadcast"]}},"delivery":{"timestamp":"%s","recipients":[%q]}}`,
		time.Now().UTC().Format(time.RFC3339Nano), messageID, email, site, contactID, time.Now().UTC().Format(time.RFC3339Nano), email)
	env, _ := json.Marshal(map[string]string{"Type": "Notification", "MessageId": messageID, "Message": inner})
	return string(env)
}

func TestEmailEventsFlowFromTheQueueIntoTheProfile(t *testing.T) {
	client, queueURL, dlqURL := queues(t)
	ctx := context.Background()
	s := site(t)
	owner := as(t, s, "owner")
	var c struct{ ID string }
	owner.expect(owner.do("POST", "/contacts", `{"email":"events-`+s+`@example.com","subscribed":true}`), 201).json(&c)
	email := "events-" + s + "@example.com"

	// Nine good events, one poison record, and one good event sent three times.
	poison := "poison-" + s
	for i := range 9 {
		body := sesEvent(s, c.ID, email, fmt.Sprintf("m-%s-%d", s, i))
		if i == 4 {
			if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: aws.String(`{"Type":"Notification","Message":"` + poison + `"}`)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: &body}); err != nil {
			t.Fatal(err)
		}
	}
	dup := sesEvent(s, c.ID, email, "dup-"+s)
	for range 3 {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queueURL, MessageBody: &dup}); err != nil {
			t.Fatal(err)
		}
	}

	// The runner polls the queue like the event source mapping does.
	var delivered int
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		r := owner.expect(owner.do("GET", "/contacts/"+c.ID+"/lifecycle?type=email_delivered&limit=100", ""), 200)
		var page struct{ Items []json.RawMessage }
		_ = json.Unmarshal(r.body, &page)
		if delivered = len(page.Items); delivered >= 10 {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if delivered != 10 {
		t.Fatalf("%d delivered entries, want 10 (nine events and one sent three times)", delivered)
	}

	// The poison record is retried, then lands in the dead-letter queue.
	var inDLQ []string
	deadline = time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !slices.ContainsFunc(inDLQ, func(b string) bool { return strings.Contains(b, poison) }) {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlqURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			inDLQ = append(inDLQ, aws.ToString(m.Body))
		}
	}
	if !slices.ContainsFunc(inDLQ, func(b string) bool { return strings.Contains(b, poison) }) {
		t.Fatal("the poison record never reached the dead-letter queue")
	}
	for _, b := range inDLQ {
		if strings.Contains(b, "m-"+s) || strings.Contains(b, "dup-"+s) {
			t.Errorf("a good event reached the dead-letter queue: %.120s", b)
		}
	}
}
