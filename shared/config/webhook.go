package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Webhook is what the SES webhook function (functions/ses-webhook) needs.
// It has no table, so it does not go through Load.
type Webhook struct {
	QueueURL         string   // QUEUE_URL: the email-events queue
	AllowedTopicARNs []string // ALLOWED_TOPIC_ARNS: comma-separated SNS topic ARNs
	AWS              aws.Config
}

// topicARN is an SNS topic ARN in any partition.
var topicARN = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// LoadWebhook reads the webhook's environment through getenv and returns
// every problem at once.
func LoadWebhook(getenv func(string) string) (Webhook, error) {
	var problems []string
	c := Webhook{QueueURL: strings.TrimSpace(getenv("QUEUE_URL"))}
	if c.QueueURL == "" {
		problems = append(problems, "QUEUE_URL is not set")
	} else if u, err := url.Parse(c.QueueURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("QUEUE_URL must be an SQS queue URL, got %q", c.QueueURL))
	}
	bad := 0
	for _, arn := range strings.Split(getenv("ALLOWED_TOPIC_ARNS"), ",") {
		arn = strings.TrimSpace(arn)
		switch {
		case arn == "":
		case !topicARN.MatchString(arn):
			bad++
			problems = append(problems, fmt.Sprintf("ALLOWED_TOPIC_ARNS holds %q, which is not an SNS topic ARN", arn))
		default:
			c.AllowedTopicARNs = append(c.AllowedTopicARNs, arn)
		}
	}
	if len(c.AllowedTopicARNs) == 0 && bad == 0 {
		problems = append(problems, "ALLOWED_TOPIC_ARNS is not set (comma-separated SNS topic ARNs)")
	}
	if len(problems) > 0 {
		return Webhook{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// MustLoadWebhook is MustLoad for the webhook: JSON logging, LoadWebhook
// and the AWS SDK configuration, exiting when either fails.
func MustLoadWebhook() Webhook {
	slog.SetDefault(newLogger())
	c, err := LoadWebhook(os.Getenv)
	if err != nil {
		fail(err)
	}
	c.AWS = mustAWS()
	return c
}
