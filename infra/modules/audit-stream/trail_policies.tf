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

  # Before writing a BASELINE it replays the key's trail (Query on the index) and reads
  # chain heads (GetItem, BatchGetItem); it never scans the Audit table.
  statement {
    sid = "ReadAuditTrail"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
    ]
    resources = [aws_dynamodb_table.audit.arn]
  }

  dynamic "statement" {
    for_each = var.history_index ? [local.history_index_arn] : []
    content {
      sid       = "QueryHistoryIndex"
      actions   = ["dynamodb:Query"]
      resources = [statement.value]
    }
  }

  # BASELINE items and chain heads are written with PutItem and a condition
  # (attribute_not_exists(id), or the head's previous chain). BatchWriteItem is left
  # out on purpose: it takes no condition, and IAM authorizes its DeleteRequests as
  # BatchWriteItem, so granting it would let backfill delete audit items.
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
