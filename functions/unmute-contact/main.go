// Command unmute-contact is the Lambda function serving api.UnmuteContact.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/creator-platform/contacts/shared/api"
	"github.com/creator-platform/contacts/shared/config"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/store"
)

func main() {
	cfg := config.MustLoad()
	svc := contacts.NewService(store.New(dynamodb.NewFromConfig(cfg.AWS), cfg.Table), cfg.LifecycleRetention)
	lambda.Start(api.UnmuteContact(svc).Handle)
}
