package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/creator-platform/contacts/shared/store"
)

// These tests run against the local emulator (make test starts it and sets
// AWS_ENDPOINT_URL). Each run creates its own table.
var (
	db       *dynamodb.Client
	table    string
	requests atomic.Int64 // DynamoDB requests sent, counted by middleware
)

func TestMain(m *testing.M) {
	if os.Getenv("AWS_ENDPOINT_URL") == "" {
		fmt.Println("store tests need the emulator: run them with `make test` (AWS_ENDPOINT_URL is not set)")
		os.Exit(1)
	}
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countRequests",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				requests.Add(1)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
	db = dynamodb.NewFromConfig(cfg)
	table = "contacts-test-" + rand.Text()[:8]
	if err := store.CreateTable(ctx, db, table); err != nil {
		fmt.Println("create table:", err)
		os.Exit(1)
	}
	code := m.Run()
	_, _ = db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	os.Exit(code)
}

func newStore() *store.Store { return store.New(db, table) }
