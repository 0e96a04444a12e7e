package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestLoadWebhookNamesEveryMissingVariable(t *testing.T) {
	_, err := LoadWebhook(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "QUEUE_URL") || !strings.Contains(err.Error(), "ALLOWED_TOPIC_ARNS") {
		t.Fatalf("want both variables named, got %v", err)
	}
	_, err = LoadWebhook(func(k string) string {
		return map[string]string{"QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "ALLOWED_TOPIC_ARNS": " , "}[k]
	})
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_TOPIC_ARNS") {
		t.Fatalf("a list of nothing should be refused, got %v", err)
	}
}

func TestLoadWebhookRefusesWhatIsNotATopicARN(t *testing.T) {
	_, err := LoadWebhook(func(k string) string {
		return map[string]string{"QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "ALLOWED_TOPIC_ARNS": "arn:aws:sns:us-east-1:123456789012:ok,*"}[k]
	})
	if err == nil || !strings.Contains(err.Error(), `"*"`) {
		t.Fatalf("want the bad entry named, got %v", err)
	}
}

func TestLoadWebhookSplitsTopics(t *testing.T) {
	c, err := LoadWebhook(func(k string) string {
		return map[string]string{
			"QUEUE_URL":          "http://127.0.0.1:4566/123456789012/contacts-local-ingest",
			"ALLOWED_TOPIC_ARNS": "arn:aws:sns:us-east-1:123456789012:a, arn:aws-cn:sns:cn-north-1:123456789012:b,",
		}[k]
	})
	want := []string{"arn:aws:sns:us-east-1:123456789012:a", "arn:aws-cn:sns:cn-north-1:123456789012:b"}
	if err != nil || !reflect.DeepEqual(c.AllowedTopicARNs, want) || c.QueueURL == "" {
		t.Fatalf("got %+v, %v", c, err)
	}
}
