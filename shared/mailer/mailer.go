// Package mailer sends the product's transactional email through Amazon SES
// (service/ses SendEmail), with the configuration set that publishes its
// events and the tags that let those events find the contact.
package mailer

import (
	"context"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/creator-platform/contacts/shared/contacts"
)

// SES sends email with one client, from one address, through one
// configuration set.
type SES struct {
	Client           *ses.Client
	From             string
	ConfigurationSet string
}

var _ contacts.Mailer = (*SES)(nil)

// tagValue keeps what SES accepts in a tag value: letters, digits, _ and -.
var tagUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// Send sends a plain-text email tagged with the site, the contact and the
// kind "transactional", and returns SES's message id.
func (m *SES) Send(ctx context.Context, e contacts.Email) (string, error) {
	in := &ses.SendEmailInput{
		Source:      aws.String(m.From),
		Destination: &types.Destination{ToAddresses: []string{e.To}},
		Message: &types.Message{
			Subject: &types.Content{Data: aws.String(e.Subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(e.Text), Charset: aws.String("UTF-8")}},
		},
		Tags: []types.MessageTag{
			{Name: aws.String("site"), Value: aws.String(tagUnsafe.ReplaceAllString(e.Site, "_"))},
			{Name: aws.String("contact"), Value: aws.String(tagUnsafe.ReplaceAllString(e.ContactID, "_"))},
			{Name: aws.String("campaign_kind"), Value: aws.String("transactional")},
		},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	out, err := m.Client.SendEmail(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}
