// Command complete-password-reset is the Lambda function serving api.CompletePasswordReset.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/creator-platform/contacts/shared/api"
	"github.com/creator-platform/contacts/shared/config"
	"github.com/creator-platform/contacts/shared/contacts"
	"github.com/creator-platform/contacts/shared/mailer"
	"github.com/creator-platform/contacts/shared/store"
)

func main() {
	cfg := config.MustLoad()
	mail := config.MustLoadMail()
	mailer := &mailer.SES{Client: ses.NewFromConfig(cfg.AWS), From: mail.From, ConfigurationSet: mail.ConfigurationSet}
	passwords := contacts.NewPasswords(store.New(dynamodb.NewFromConfig(cfg.AWS), cfg.Table), mailer, cfg.LifecycleRetention, mail.SiteURLTemplate)
	lambda.Start(api.CompletePasswordReset(passwords).Handle)
}
