# Deploys libauditstream's whole system from the zips `make package` leaves in dist/:
# `terraform -chdir=infra init && terraform -chdir=infra apply`. Teams with their own
# root configuration call ./modules/audit-stream directly instead.

module "audit_stream" {
  source = "./modules/audit-stream"

  # Every input below is null unless set; the module then uses its own default, so the
  # defaults and validations live in one place (modules/audit-stream/variables.tf).
  package_dir  = coalesce(var.package_dir, "${path.module}/../dist")
  name_prefix  = var.name_prefix
  architecture = var.architecture
  tags         = var.tags

  billing_mode         = var.billing_mode
  provisioned_capacity = var.provisioned_capacity
  audit_ttl_attribute  = var.audit_ttl_attribute
  history_index        = var.history_index
  deletion_protection  = var.deletion_protection

  create_trail_policies = var.create_trail_policies

  memory_size             = var.memory_size
  timeout                 = var.timeout
  audit_format            = var.audit_format
  audit_ignore_attributes = var.audit_ignore_attributes
  audit_concurrency       = var.audit_concurrency
  log_level               = var.log_level
  log_retention_days      = var.log_retention_days

  audit_actor_attribute   = var.audit_actor_attribute
  audit_retention_days    = var.audit_retention_days
  audit_redact_attributes = var.audit_redact_attributes
  audit_redact_key        = var.audit_redact_key
  audit_chain             = var.audit_chain
  audit_write_api         = var.audit_write_api

  starting_position                  = var.starting_position
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  maximum_retry_attempts             = var.maximum_retry_attempts
  bisect_batch_on_function_error     = var.bisect_batch_on_function_error

  iterator_age_alarm_threshold_seconds = var.iterator_age_alarm_threshold_seconds
  errors_alarm_threshold               = var.errors_alarm_threshold
  alarm_period_seconds                 = var.alarm_period_seconds
  alarm_evaluation_periods             = var.alarm_evaluation_periods
  create_alarm_topic                   = var.create_alarm_topic
  alarm_actions                        = var.alarm_actions
}
