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
      # The trust settings and the write API, each only when set: unset, the function
      # keeps its own default, which the environment then does not restate.
      var.audit_actor_attribute == null ? {} : {
        AUDIT_ACTOR_ATTRIBUTE = var.audit_actor_attribute
      },
      var.audit_retention_days == null ? {} : {
        AUDIT_RETENTION_DAYS = tostring(var.audit_retention_days)
      },
      length(var.audit_redact_attributes) == 0 ? {} : {
        AUDIT_REDACT_ATTRIBUTES = join(",", var.audit_redact_attributes)
      },
      # Whether a key is set is no secret; the key is, and stays marked so: plan shows
      # "(sensitive value)" for it. Testing the sensitive value itself would mark the
      # whole environment, hiding every other change from plan.
      nonsensitive(var.audit_redact_key == null) ? {} : {
        AUDIT_REDACT_KEY = var.audit_redact_key
      },
      var.audit_chain == null ? {} : {
        AUDIT_CHAIN = var.audit_chain ? "on" : "off"
      },
      var.audit_write_api == null ? {} : {
        AUDIT_WRITE_API = var.audit_write_api
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

  # What no single variable's validation can say, or may say without printing a secret,
  # checked before anything is deployed. Every failing one is reported together.
  lifecycle {
    # What the function accepts as AUDIT_REDACT_KEY: whole quanta of A-Z a-z 0-9 + /,
    # the last one may be padded with "=" or "==", decoding to 32 to 256 bytes (3 a
    # quantum, less one a "="). A validation block would print a refused key.
    precondition {
      condition = var.audit_redact_key == null ? true : (
        can(regex("^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", var.audit_redact_key)) &&
        floor(length(var.audit_redact_key) / 4) * 3 - length(regexall("=", var.audit_redact_key)) >= 32 &&
        floor(length(var.audit_redact_key) / 4) * 3 - length(regexall("=", var.audit_redact_key)) <= 256
      )
      error_message = "The value of audit_redact_key must be null or standard padded base64 (A-Z, a-z, 0-9, \"+\", \"/\", \"=\" at the end only) of 32 to 256 bytes, such as `openssl rand -base64 32` prints."
    }
    # The function refuses to start with an actor attribute that is also redacted or
    # ignored (its value would be hidden or dropped). The ignore list's names are
    # compared as the function reads them, trimmed.
    precondition {
      condition     = var.audit_actor_attribute == null ? true : !contains(var.audit_redact_attributes, var.audit_actor_attribute)
      error_message = "The value of audit_actor_attribute must not also be in audit_redact_attributes: the actor would be redacted."
    }
    precondition {
      condition     = var.audit_actor_attribute == null ? true : !contains([for a in var.audit_ignore_attributes : trim(a, " \t")], var.audit_actor_attribute)
      error_message = "The value of audit_actor_attribute must not also be in audit_ignore_attributes: the actor would be left out."
    }
    # The function writes expiresAt, and a table has one TTL attribute.
    precondition {
      condition     = var.audit_retention_days == null || var.audit_ttl_attribute == null || var.audit_ttl_attribute == local.retention_attribute
      error_message = "The value of audit_ttl_attribute must be null or \"${local.retention_attribute}\" while audit_retention_days is set: the function writes ${local.retention_attribute}, and a table has one TTL attribute."
    }
  }

  # The role's policy must exist before the function can run, and the log group before
  # the first invocation would otherwise create one with no retention.
  depends_on = [
    aws_iam_role_policy.function,
    aws_cloudwatch_log_group.function,
  ]
}
