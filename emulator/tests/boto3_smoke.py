"""A second, independent Data API client against the emulator: boto3's `rds-data`, unmodified.

Reads AWS_ENDPOINT_URL_RDS_DATA (honoured by boto3 itself), EMULATOR_RESOURCE_ARN, EMULATOR_SECRET_ARN
and EMULATOR_DATABASE. Exits non-zero with a message on the first mismatch.
"""
import os
import sys

import boto3

arn = os.environ["EMULATOR_RESOURCE_ARN"]
secret = os.environ["EMULATOR_SECRET_ARN"]
database = os.environ["EMULATOR_DATABASE"]
client = boto3.client(
    "rds-data",
    region_name="us-east-1",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="secret",
)
common = {"resourceArn": arn, "secretArn": secret}


def check(condition, what):
    if not condition:
        sys.exit(f"boto3 smoke: {what}")


client.execute_statement(**common, database=database, sql="CREATE TABLE boto (id int PRIMARY KEY, name text, at timestamp)")

tx = client.begin_transaction(**common, database=database)["transactionId"]
inserted = client.execute_statement(
    **common,
    database=database,
    transactionId=tx,
    sql="INSERT INTO boto VALUES (:id, :name, :at)",
    parameters=[
        {"name": "id", "value": {"longValue": 1}},
        {"name": "name", "value": {"stringValue": "boto ✓"}},
        {"name": "at", "value": {"stringValue": "2023-08-15 19:57:42.5"}, "typeHint": "TIMESTAMP"},
    ],
)
check(inserted["numberOfRecordsUpdated"] == 1, f"insert: {inserted}")
status = client.commit_transaction(**common, transactionId=tx)["transactionStatus"]
check(status == "Transaction Committed", f"commit: {status}")

tx = client.begin_transaction(**common, database=database)["transactionId"]
client.execute_statement(**common, database=database, transactionId=tx, sql="INSERT INTO boto (id, name) VALUES (2, 'gone')")
status = client.rollback_transaction(**common, transactionId=tx)["transactionStatus"]
check(status == "Rollback Complete", f"rollback: {status}")

selected = client.execute_statement(**common, database=database, sql="SELECT id, name, at, NULL::int AS n FROM boto", includeResultMetadata=True)
check(
    selected["records"] == [[{"longValue": 1}, {"stringValue": "boto ✓"}, {"stringValue": "2023-08-15 19:57:42.5"}, {"isNull": True}]],
    f"select: {selected['records']}",
)
check([c["typeName"] for c in selected["columnMetadata"]] == ["int4", "text", "timestamp", "int4"], f"metadata: {selected['columnMetadata']}")

try:
    client.execute_statement(**common, database=database, sql="SELEC 1")
    sys.exit("boto3 smoke: a syntax error was not reported")
except client.exceptions.DatabaseErrorException as error:
    check("SQLState: 42601" in str(error), f"error text: {error}")

try:
    client.commit_transaction(**common, transactionId=tx)
    sys.exit("boto3 smoke: commit of an ended transaction succeeded")
except client.exceptions.TransactionNotFoundException:
    pass

print("boto3 smoke: ok")
