# The managed IAM policies for whoever reads the trail (people, `auditstream history`,
# `show`, `verify`) and for `auditstream backfill`, for a caller to attach to its own
# roles, groups or users. The function's execution role (iam.tf) gets neither.

data "aws_iam_policy_document" "reader" {
  # Replay reads one key's items through the index; `verify --all` scans the table for
  # every key; chain heads, which the index leaves out, are read by id (GetItem,
  # BatchGetItem); DescribeTable tells a missing index from a denied one. Query on the
  # table itself reads one item by id.
  statement {
    sid = "ReadAuditTable"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:Query",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.audit.arn]
  }

  # A Query naming IndexName is authorized against the index's own ARN, which a grant
  # on the table does not cover. Nothing to grant when there is no index.
  dynamic "statement" {
    for_each = var.history_index ? [local.history_index_arn] : []
    content {
      sid       = "QueryHistoryIndex"
      actions   = ["dynamodb:Query"]
      resources = [statement.value]
    }
  }
}

data "aws_iam_policy_document" "backfill" {
  # Backfill reads the source table's key schema, then scans it in parallel segments, and
  # reads an item again, consistently, before writing its BASELINE (a Scan's copy may be
  # older than the trail).
  statement {
    sid = "ScanConfiguration"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:Scan",
    ]
    resources = [aws_dynamodb_table.configuration.arn]
  }

  # It checks that the Audit table and its index exist, and before writing a BASELINE
  # replays the key's trail (Query on the index); it never scans the Audit table.
  statement {
    sid       = "DescribeAuditTable"
    actions   = ["dynamodb:DescribeTable"]
    resources = [aws_dynamodb_table.audit.arn]
  }

  # With the chain on, a BASELINE is linked like any entry, through the function's own
  # chain code: backfill reads its keys' heads with BatchGetItem (again when a head's
  # condition fails) and moves them with the conditional PutItem below. It reads no
  # audit item by GetItem.
  dynamic "statement" {
    for_each = local.chain ? [aws_dynamodb_table.audit.arn] : []
    content {
      sid       = "ReadChainHeads"
      actions   = ["dynamodb:BatchGetItem"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.history_index ? [local.history_index_arn] : []
    content {
      sid       = "QueryHistoryIndex"
      actions   = ["dynamodb:Query"]
      resources = [statement.value]
    }
  }

  # BASELINE items, and with the chain on the heads, are written with PutItem and a
  # condition (attribute_not_exists(id), or the head's previous chain). BatchWriteItem
  # is left out on purpose, whatever audit_write_api says: it takes no condition, and
  # IAM authorizes its DeleteRequests as BatchWriteItem, so granting it would let
  # backfill delete audit items.
  statement {
    sid       = "WriteBaselines"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.audit.arn]
  }
}

resource "aws_iam_policy" "reader" {
  count       = var.create_trail_policies ? 1 : 0
  name        = "${var.name_prefix}audit-trail-reader"
  description = "Reads the ${local.audit_table_name} audit trail (auditstream history, show, verify): no write."
  policy      = data.aws_iam_policy_document.reader.json
  tags        = var.tags
}

resource "aws_iam_policy" "backfill" {
  count       = var.create_trail_policies ? 1 : 0
  name        = "${var.name_prefix}audit-trail-backfill"
  description = "Runs auditstream backfill: scans ${local.configuration_table_name}, reads and adds BASELINE items to ${local.audit_table_name}; no delete."
  policy      = data.aws_iam_policy_document.backfill.json
  tags        = var.tags
}
