// Package queue sends messages to an SQS queue. SDK errors stop here: the
// caller sees a plain error and never imports the SQS types.
package queue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SendMessageAPI is the part of *sqs.Client a Queue uses.
type SendMessageAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue is one SQS queue.
type Queue struct {
	client SendMessageAPI
	url    string
}

// New returns the queue at url, reached through client (sqs.NewFromConfig).
func New(client SendMessageAPI, url string) *Queue {
	return &Queue{client: client, url: url}
}

// Send puts body on the queue as one message, unchanged.
func (q *Queue) Send(ctx context.Context, body string) error {
	if _, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(body)}); err != nil {
		return fmt.Errorf("send to queue: %w", err)
	}
	return nil
}
