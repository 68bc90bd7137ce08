# What callers and operators need to find the deployed system.

output "configuration_table_name" {
  description = "Name of the Configuration table."
  value       = aws_dynamodb_table.configuration.name
}

output "configuration_table_arn" {
  description = "ARN of the Configuration table."
  value       = aws_dynamodb_table.configuration.arn
}

output "configuration_stream_arn" {
  description = "ARN of the Configuration table's stream (NEW_AND_OLD_IMAGES)."
  value       = aws_dynamodb_table.configuration.stream_arn
}

output "audit_table_name" {
  description = "Name of the Audit table."
  value       = aws_dynamodb_table.audit.name
}

output "audit_table_arn" {
  description = "ARN of the Audit table."
  value       = aws_dynamodb_table.audit.arn
}

output "history_index_name" {
  description = "Name of the Audit table's history index (historyKey, historySort), or null when history_index is false."
  value       = var.history_index ? local.history_index_name : null
}

output "history_index_arn" {
  description = "ARN of the history index, or null when history_index is false."
  value       = var.history_index ? local.history_index_arn : null
}

output "reader_policy_arn" {
  description = "ARN of the managed policy for the trail's readers (auditstream history, show, verify): attach it to their role, group or user. Null when create_trail_policies is false."
  value       = one(aws_iam_policy.reader[*].arn)
}

output "reader_policy_json" {
  description = "The readers' policy document (JSON), for an inline policy or a policy made elsewhere."
  value       = data.aws_iam_policy_document.reader.json
}

output "backfill_policy_arn" {
  description = "ARN of the managed policy for auditstream backfill: attach it to the role or user that runs it. Null when create_trail_policies is false."
  value       = one(aws_iam_policy.backfill[*].arn)
}

output "backfill_policy_json" {
  description = "The backfill policy document (JSON), for an inline policy or a policy made elsewhere."
  value       = data.aws_iam_policy_document.backfill.json
}

output "function_name" {
  description = "Name of the audit_producer function."
  value       = aws_lambda_function.audit_producer.function_name
}

output "function_arn" {
  description = "ARN of the audit_producer function."
  value       = aws_lambda_function.audit_producer.arn
}

output "function_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.function.arn
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.function.name
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping from the stream to the function."
  value       = aws_lambda_event_source_mapping.configuration_stream.uuid
}

output "failure_queue_url" {
  description = "URL of the SQS queue that receives the description of every stream batch given up."
  value       = aws_sqs_queue.failures.url
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = aws_sqs_queue.failures.arn
}

output "alarm_topic_arn" {
  description = "ARN of the alarms' SNS topic, or null when create_alarm_topic is false."
  value       = one(aws_sns_topic.alarms[*].arn)
}

output "alarm_names" {
  description = "Names of the IteratorAge, Errors and failure-queue alarms."
  value = [
    aws_cloudwatch_metric_alarm.iterator_age.alarm_name,
    aws_cloudwatch_metric_alarm.errors.alarm_name,
    aws_cloudwatch_metric_alarm.failed_batches.alarm_name,
  ]
}
