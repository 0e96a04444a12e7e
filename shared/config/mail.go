package config

import (
	"errors"
	"net/mail"
	"os"
	"strings"
)

// Mail is what the functions that send email need besides Config.
type Mail struct {
	From             string // MAIL_FROM: a verified SES identity
	ConfigurationSet string // SES_CONFIGURATION_SET: publishes the events (optional)
	// SITE_URL_TEMPLATE builds a site's URL when its settings have none;
	// "{site}" stands for the site id. Default https://{site}.creator.example.
	SiteURLTemplate string
}

// LoadMail reads the mail settings and returns every problem at once.
func LoadMail(getenv func(string) string) (Mail, error) {
	var problems []string
	m := Mail{
		From:             strings.TrimSpace(getenv("MAIL_FROM")),
		ConfigurationSet: strings.TrimSpace(getenv("SES_CONFIGURATION_SET")),
		SiteURLTemplate:  strings.TrimSpace(getenv("SITE_URL_TEMPLATE")),
	}
	if m.From == "" {
		problems = append(problems, "MAIL_FROM is not set")
	} else if _, err := mail.ParseAddress(m.From); err != nil {
		problems = append(problems, "MAIL_FROM is not an email address")
	}
	if m.SiteURLTemplate == "" {
		m.SiteURLTemplate = "https://{site}.creator.example"
	} else if !strings.Contains(m.SiteURLTemplate, "{site}") && !strings.HasPrefix(m.SiteURLTemplate, "https://") {
		problems = append(problems, "SITE_URL_TEMPLATE must be an https URL, with {site} for the site id")
	}
	if len(problems) > 0 {
		return Mail{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return m, nil
}

// MustLoadMail is LoadMail from the environment, exiting when it fails.
// Call it from main after MustLoad (which set up logging).
func MustLoadMail() Mail {
	m, err := LoadMail(os.Getenv)
	if err != nil {
		fail(err)
	}
	return m
}
