package runner

import (
	"reflect"
	"testing"
)

func loadTestTemplate(t *testing.T) *Template {
	t.Helper()
	tmpl, err := LoadTemplate("../testdata/template.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestParseTemplateFunctions(t *testing.T) {
	tmpl := loadTestTemplate(t)
	if len(tmpl.Functions) != 2 {
		t.Fatalf("functions = %d, want 2", len(tmpl.Functions))
	}
	echo := tmpl.Functions[0]
	if echo.Name != "EchoFunction" || echo.Timeout != 2 || echo.MemorySize != 256 || echo.Handler != "bootstrap" {
		t.Errorf("echo = %+v; want Globals merged with the function's own Timeout", echo)
	}
	wantEnv := map[string]string{
		"TABLE_NAME":               "contacts-local",
		"LIFECYCLE_RETENTION_DAYS": "365",
		"LOG_LEVEL":                "info",
		"QUEUE_URL":                "http://127.0.0.1:4566/123456789012/contacts-local-ingest",
	}
	if !reflect.DeepEqual(echo.Environment, wantEnv) {
		t.Errorf("env = %v, want %v", echo.Environment, wantEnv)
	}
	wantRoutes := []Route{
		{Function: "EchoFunction", Method: "GET", Path: "/contacts/{id}"},
		{Function: "EchoFunction", Method: "POST", Path: "/contacts"},
		{Function: "EchoFunction", Method: "POST", Path: "/public/forms/{form}", Public: true},
	}
	if !reflect.DeepEqual(echo.Routes, wantRoutes) {
		t.Errorf("routes = %+v, want %+v", echo.Routes, wantRoutes)
	}
	proxy := tmpl.Functions[1]
	if proxy.Timeout != 10 {
		t.Errorf("proxy timeout = %d, want the Globals' 10", proxy.Timeout)
	}
	wantQ := []QueueEvent{{Queue: "contacts-local-ingest", BatchSize: 5, ReportBatchItemFailures: true}}
	if !reflect.DeepEqual(proxy.Queues, wantQ) {
		t.Errorf("queues = %+v, want %+v", proxy.Queues, wantQ)
	}
	if len(tmpl.Queues) != 2 || tmpl.Queues[0].Name != "contacts-local-ingest-dlq" || tmpl.Queues[1].Name != "contacts-local-ingest" {
		t.Fatalf("queues = %+v", tmpl.Queues)
	}
	attrs := queueAttributes(tmpl.Queues[1])
	wantAttrs := map[string]string{"VisibilityTimeout": "1",
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:contacts-local-ingest-dlq","maxReceiveCount":1}`}
	if !reflect.DeepEqual(attrs, wantAttrs) {
		t.Errorf("queue attributes = %v, want %v", attrs, wantAttrs)
	}
}

func TestCreateTableInput(t *testing.T) {
	tmpl := loadTestTemplate(t)
	if len(tmpl.Tables) != 1 {
		t.Fatalf("tables = %d", len(tmpl.Tables))
	}
	in := CreateTableInput(tmpl.Tables[0])
	if in["TableName"] != "contacts-local" || in["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("input = %v", in)
	}
	for _, k := range []string{"TimeToLiveSpecification", "PointInTimeRecoverySpecification"} {
		if _, ok := in[k]; ok {
			t.Errorf("%s is not a CreateTable parameter", k)
		}
	}
	if !reflect.DeepEqual(in["SSESpecification"], map[string]any{"Enabled": true}) {
		t.Errorf("SSESpecification = %v", in["SSESpecification"])
	}
	gsis := in["GlobalSecondaryIndexes"].([]any)
	if len(gsis) != 1 || gsis[0].(map[string]any)["IndexName"] != "GSI1" {
		t.Errorf("gsis = %v", gsis)
	}
}

func TestResolverSub(t *testing.T) {
	tmpl, err := ParseTemplate([]byte(`
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: !Sub "contacts-${Stage}"}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          A: !Sub "${AWS::Region}/${T}/${!Literal}"
          B: !GetAtt T.Arn
          C: {"Fn::Sub": ["x-${v}", {v: !Ref Stage}]}
          D: {Ref: T}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	got := tmpl.Functions[0].Environment
	want := map[string]string{
		"A": "us-east-1/contacts-dev/${Literal}",
		"B": "arn:aws:dynamodb:us-east-1:123456789012:table/contacts-dev",
		"C": "x-dev",
		"D": "contacts-dev",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env = %v, want %v", got, want)
	}
}
