// Command ingest-email-events is the Lambda function consuming the email
// events queue (SES notifications, through SNS) into contacts' lifecycles.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/creator-platform/contacts/shared/config"
	"github.com/creator-platform/contacts/shared/emailevents"
	"github.com/creator-platform/contacts/shared/store"
)

func main() {
	cfg := config.MustLoad()
	ingest := &emailevents.Ingest{Store: store.New(dynamodb.NewFromConfig(cfg.AWS), cfg.Table), Retention: cfg.LifecycleRetention}
	lambda.Start(ingest.Handle)
}
