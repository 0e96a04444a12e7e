package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadNamesEveryProblem(t *testing.T) {
	env := map[string]string{"LIFECYCLE_RETENTION_DAYS": "forever"}
	_, err := Load(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "TABLE_NAME") || !strings.Contains(err.Error(), "LIFECYCLE_RETENTION_DAYS") {
		t.Fatalf("want both variables named, got %v", err)
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(func(k string) string { return map[string]string{"TABLE_NAME": "contacts"}[k] })
	if err != nil || c.Table != "contacts" || c.LifecycleRetention != 365*24*time.Hour {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestLoadMail(t *testing.T) {
	_, err := LoadMail(func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "MAIL_FROM") {
		t.Fatalf("missing MAIL_FROM: %v", err)
	}
	m, err := LoadMail(func(k string) string { return map[string]string{"MAIL_FROM": "Studio <hello@creator.example.com>"}[k] })
	if err != nil || m.SiteURLTemplate != "https://{site}.creator.example" {
		t.Fatalf("defaults: %+v %v", m, err)
	}
}
