# The function's execution role: exactly the actions the function and its event source
# mapping use with the settings chosen, each on the one resource it touches. No action
# and no resource is a wildcard, with one exception explained on the logs statement.

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumesRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = local.function_name
  description        = "Execution role of ${local.function_name}: reads the ${local.configuration_table_name} stream, writes ${local.audit_table_name}."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  # One PutItem per audit item (AUDIT_WRITE_API=PutItem, the default); with the chain on,
  # also the heads, moved with a condition (the previous chain, or
  # attribute_not_exists(id)), which IAM authorizes as a plain PutItem.
  statement {
    sid       = "WriteAuditItems"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.audit.arn]
  }

  # AUDIT_CHAIN=on: each batch reads the heads of the keys it holds, and reads a head
  # again when its conditional write fails, both with BatchGetItem. Nothing without it.
  dynamic "statement" {
    for_each = local.chain ? [aws_dynamodb_table.audit.arn] : []
    content {
      sid       = "ReadChainHeads"
      actions   = ["dynamodb:BatchGetItem"]
      resources = [statement.value]
    }
  }

  # AUDIT_WRITE_API=BatchWriteItem: up to 25 items a request. IAM authorizes the delete
  # requests such a call may carry as BatchWriteItem too, so this grant lets the role
  # delete audit items, which PutItem mode does not: granted only in that mode.
  dynamic "statement" {
    for_each = local.batch_write ? [aws_dynamodb_table.audit.arn] : []
    content {
      sid       = "BatchWriteAuditItems"
      actions   = ["dynamodb:BatchWriteItem"]
      resources = [statement.value]
    }
  }

  # The four stream actions Lambda names when it refuses to create a mapping ("ensure
  # the role can perform the GetRecords, GetShardIterator, DescribeStream, and
  # ListStreams Actions on your stream"), each on this one stream's ARN, as AWS's own
  # example policy for a Lambda stream reader scopes them, instead of the "*" of the
  # managed AWSLambdaDynamoDBExecutionRole.
  statement {
    sid = "ReadConfigurationStream"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = [aws_dynamodb_table.configuration.stream_arn]
  }

  # The one wildcard, and the narrowest form IAM offers: Lambda names each log stream
  # at run time ("2024/05/01/[$LATEST]<id>"), so no fixed ARN can name it, and
  # PutLogEvents is authorized against the stream's ARN. "<log group ARN>:*" is the form
  # CloudWatch Logs documents for IAM policies and the one Lambda's console writes; it
  # matches only the streams of this function's own log group. The tests allow exactly
  # this resource, for exactly these two actions, and no other "*".
  statement {
    sid = "WriteOwnLogGroup"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  # The mapping's on-failure destination: Lambda sends the failed batch's description
  # with the function's role.
  statement {
    sid       = "SendToFailureQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "least-privilege"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}
