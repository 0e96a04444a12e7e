// Command ses-webhook is the Lambda function serving POST /webhooks/ses: it
// verifies the messages Amazon SNS posts and forwards SES notifications to
// the email-events queue.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/creator-platform/contacts/shared/config"
	"github.com/creator-platform/contacts/shared/queue"
	"github.com/creator-platform/contacts/shared/snsverify"
	"github.com/creator-platform/contacts/shared/webhook"
)

func main() {
	cfg := config.MustLoadWebhook()
	client := snsverify.NewHTTPClient()
	verifier := snsverify.NewVerifier(cfg.AllowedTopicARNs, snsverify.HTTPFetcher(client))
	events := queue.New(sqs.NewFromConfig(cfg.AWS), cfg.QueueURL)
	lambda.Start(webhook.New(verifier, events, client).Handle)
}
