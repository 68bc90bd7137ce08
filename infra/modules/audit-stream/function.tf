# The audit_producer function, deployed from the zip `make package` built for
# var.architecture, and the log group it writes its JSON log lines to.

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "audit_producer" {
  function_name = local.function_name
  description   = "Writes an audit item to ${local.audit_table_name} for every change to ${local.configuration_table_name}."
  role          = aws_iam_role.function.arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]
  filename      = local.package_file
  # Redeploys when the zip's content changes, not when its path or timestamp does.
  source_code_hash = filebase64sha256(local.package_file)

  memory_size = var.memory_size
  timeout     = var.timeout

  environment {
    variables = merge(
      {
        AUDIT_TABLE       = aws_dynamodb_table.audit.name
        AUDIT_FORMAT      = var.audit_format
        AUDIT_CONCURRENCY = tostring(var.audit_concurrency)
      },
      length(var.audit_ignore_attributes) == 0 ? {} : {
        AUDIT_IGNORE_ATTRIBUTES = join(",", var.audit_ignore_attributes)
      },
    )
  }

  # JSON log lines: Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL for
  # the handler, and drops lines below the level before they cost anything.
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function.name
    application_log_level = var.log_level
    system_log_level      = "INFO"
  }

  tags = var.tags

  # The role's policy must exist before the function can run, and the log group before
  # the first invocation would otherwise create one with no retention.
  depends_on = [
    aws_iam_role_policy.function,
    aws_cloudwatch_log_group.function,
  ]
}
