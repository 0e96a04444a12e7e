package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the contacts table as template.yaml declares it (keys,
// indexes, TTL) and waits until it is active. Tests and tools use it; the
// local runner creates the table from the template itself, and a test keeps
// the two in step.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	attr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	keySchema := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{attr("PK"), attr("SK")},
		KeySchema:            keySchema("PK", "SK"),
	}
	for _, index := range []string{"GSI1", "GSI2", "GSI3"} {
		in.AttributeDefinitions = append(in.AttributeDefinitions, attr(index+"PK"), attr(index+"SK"))
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(index), KeySchema: keySchema(index+"PK", index+"SK"),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return err
		}
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return err
	}
	_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(TTLAttribute), Enabled: aws.Bool(true)},
	})
	return err
}

// TTLAttribute is the attribute DynamoDB's TTL reads (epoch seconds).
const TTLAttribute = "expiresAt"
