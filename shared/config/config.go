// Package config loads a function's configuration once, at cold start: the
// environment (every missing or bad variable named in one error), the
// structured logger and the AWS SDK configuration.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Config is what every contacts function needs.
type Config struct {
	Table              string        // TABLE_NAME
	LifecycleRetention time.Duration // LIFECYCLE_RETENTION_DAYS, default 365
	AWS                aws.Config
}

// Load reads the environment through getenv and returns every problem at once.
func Load(getenv func(string) string) (Config, error) {
	var problems []string
	c := Config{Table: strings.TrimSpace(getenv("TABLE_NAME")), LifecycleRetention: 365 * 24 * time.Hour}
	if c.Table == "" {
		problems = append(problems, "TABLE_NAME is not set")
	}
	if s := getenv("LIFECYCLE_RETENTION_DAYS"); s != "" {
		days, err := strconv.Atoi(s)
		if err != nil || days < 1 || days > 3650 {
			problems = append(problems, "LIFECYCLE_RETENTION_DAYS must be a whole number of days from 1 to 3650, got "+strconv.Quote(s))
		} else {
			c.LifecycleRetention = time.Duration(days) * 24 * time.Hour
		}
	}
	if len(problems) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// MustLoad sets up JSON logging, loads the configuration and the AWS SDK
// configuration, and exits the process (an init error Lambda reports) when
// either fails. Call it once, from main.
func MustLoad() Config {
	slog.SetDefault(newLogger())
	c, err := Load(os.Getenv)
	if err != nil {
		fail(err)
	}
	c.AWS = mustAWS()
	return c
}

// mustAWS loads the AWS SDK configuration once, exiting when it fails.
func mustAWS() aws.Config {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fail(fmt.Errorf("aws configuration: %w", err))
	}
	return cfg
}

// newLogger logs JSON to stdout. Under Lambda's JSON log format it uses
// aws-lambda-go's handler, which adds the request id to every record.
func newLogger() *slog.Logger {
	if os.Getenv("AWS_LAMBDA_LOG_FORMAT") == "JSON" {
		return lambdacontext.NewLogger()
	}
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
}

func fail(err error) {
	slog.Error("cannot start", "error", err.Error())
	os.Exit(1)
}
