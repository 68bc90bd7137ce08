# What `terraform -chdir=infra output` shows: every output of the audit-stream module.

output "configuration_table_name" {
  description = "Name of the Configuration table."
  value       = module.audit_stream.configuration_table_name
}

output "configuration_table_arn" {
  description = "ARN of the Configuration table."
  value       = module.audit_stream.configuration_table_arn
}

output "configuration_stream_arn" {
  description = "ARN of the Configuration table's stream (NEW_AND_OLD_IMAGES)."
  value       = module.audit_stream.configuration_stream_arn
}

output "audit_table_name" {
  description = "Name of the Audit table."
  value       = module.audit_stream.audit_table_name
}

output "audit_table_arn" {
  description = "ARN of the Audit table."
  value       = module.audit_stream.audit_table_arn
}

output "history_index_name" {
  description = "Name of the Audit table's history index (historyKey, historySort), or null when history_index is false."
  value       = module.audit_stream.history_index_name
}

output "history_index_arn" {
  description = "ARN of the history index, or null when history_index is false."
  value       = module.audit_stream.history_index_arn
}

output "reader_policy_arn" {
  description = "ARN of the managed policy for the trail's readers (auditstream history, show, verify): attach it to their role, group or user. Null when create_trail_policies is false."
  value       = module.audit_stream.reader_policy_arn
}

output "reader_policy_json" {
  description = "The readers' policy document (JSON), for an inline policy or a policy made elsewhere."
  value       = module.audit_stream.reader_policy_json
}

output "backfill_policy_arn" {
  description = "ARN of the managed policy for auditstream backfill: attach it to the role or user that runs it. Null when create_trail_policies is false."
  value       = module.audit_stream.backfill_policy_arn
}

output "backfill_policy_json" {
  description = "The backfill policy document (JSON), for an inline policy or a policy made elsewhere."
  value       = module.audit_stream.backfill_policy_json
}

output "function_name" {
  description = "Name of the audit_producer function."
  value       = module.audit_stream.function_name
}

output "function_arn" {
  description = "ARN of the audit_producer function."
  value       = module.audit_stream.function_arn
}

output "function_role_arn" {
  description = "ARN of the function's execution role."
  value       = module.audit_stream.function_role_arn
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = module.audit_stream.log_group_name
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping from the stream to the function."
  value       = module.audit_stream.event_source_mapping_uuid
}

output "failure_queue_url" {
  description = "URL of the SQS queue that receives the description of every stream batch given up."
  value       = module.audit_stream.failure_queue_url
}

output "failure_queue_arn" {
  description = "ARN of the failure queue."
  value       = module.audit_stream.failure_queue_arn
}

output "alarm_topic_arn" {
  description = "ARN of the alarms' SNS topic, or null when create_alarm_topic is false."
  value       = module.audit_stream.alarm_topic_arn
}

output "alarm_names" {
  description = "Names of the IteratorAge, Errors and failure-queue alarms."
  value       = module.audit_stream.alarm_names
}
