/**
 * Why a ledger read found nothing, when the reason is the table rather than the filters: it does
 * not exist, it is not keyed like the ledger, or it holds items but none written by the ledger (the
 * state table, say, is keyed the same way). Asked only after a read came back empty, so `audit` and
 * `report` still need nothing but `dynamodb:Query` when there are records; a check the caller may not
 * make (no `DescribeTable` or `Scan` permission) says nothing rather than guess.
 */
import { DescribeTableCommand, type DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";

/** Items the ledger writes carry one of these `kind`s (see `shared/adapters/audit-dynamodb.ts`). */
const LEDGER_KINDS = new Set(["decision", "event-marker"]);
const SAMPLE_ITEMS = 25;

export async function ledgerProblem(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const keys = (Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
    if (keys.join(",") !== "pk:HASH,sk:RANGE") {
      return `table "${tableName}" is not an audit ledger: its key is ${keys.join(", ") || "unknown"}, not pk (hash) and sk (range)`;
    }
    const sample = await client.send(
      new ScanCommand({ TableName: tableName, Limit: SAMPLE_ITEMS, ProjectionExpression: "kind" }),
    );
    const items = sample.Items ?? [];
    if (items.length === 0) return `table "${tableName}" holds no records at all`;
    if (!items.some((item) => LEDGER_KINDS.has(item.kind?.S ?? ""))) {
      return `table "${tableName}" does not look like an audit ledger: none of its first ${items.length} item(s) is an audit record (is it the state table?)`;
    }
    return undefined;
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") {
      return `table "${tableName}" does not exist in this region`;
    }
    return undefined;
  }
}
