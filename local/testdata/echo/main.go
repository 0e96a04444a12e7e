// Command echo is a tiny Lambda function for the local runner's tests: it
// answers with the payload 2.0 event it received, and misbehaves on demand
// (?sleep=<ms>, ?crash=1, ?fail=1, ?binary=1). Given an SQS batch it
// reports every record whose body is "fail", or an SNS envelope whose
// Message is "fail", as a batch item failure.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	q := ev.QueryStringParameters
	if ms, err := strconv.Atoi(q["sleep"]); err == nil {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	if q["crash"] == "1" {
		os.Exit(3)
	}
	if q["fail"] == "1" {
		return events.APIGatewayV2HTTPResponse{}, errors.New("failing on purpose")
	}
	pid := strconv.Itoa(os.Getpid())
	if q["binary"] == "1" {
		return events.APIGatewayV2HTTPResponse{
			StatusCode:      200,
			Headers:         map[string]string{"Content-Type": "application/octet-stream", "X-Pid": pid},
			Body:            base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}),
			IsBase64Encoded: true,
		}, nil
	}
	b, err := json.Marshal(map[string]any{"event": ev, "env": map[string]string{
		"TABLE_NAME":               os.Getenv("TABLE_NAME"),
		"AWS_LAMBDA_FUNCTION_NAME": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		"AWS_REGION":               os.Getenv("AWS_REGION"),
	}})
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "application/json", "X-Pid": pid},
		MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
		Cookies:           []string{"c1=v1; Path=/", "c2=v2"},
		Body:              string(b),
	}, nil
}

func route(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []events.SQSMessage
	}
	if err := json.Unmarshal(raw, &probe); err == nil && len(probe.Records) > 0 {
		var resp events.SQSEventResponse
		for _, r := range probe.Records {
			var sns struct{ Type, Message string }
			_ = json.Unmarshal([]byte(r.Body), &sns)
			if r.Body == "fail" || (sns.Type == "Notification" && sns.Message == "fail") {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return resp, nil
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	return handle(ctx, ev)
}

func main() { lambda.Start(route) }
