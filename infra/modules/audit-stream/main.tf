# Names shared by the module's files, and the zip the function is deployed from.
# Every name carries var.name_prefix so that several copies can live in one account.

locals {
  configuration_table_name = "${var.name_prefix}Configuration"
  audit_table_name         = "${var.name_prefix}Audit"
  function_name            = "${var.name_prefix}audit_producer"
  failure_queue_name       = "${var.name_prefix}audit_producer-failures"

  # `make package` names its zips after the architecture they run on.
  package_file = "${var.package_dir}/audit_producer-${var.architecture}.zip"

  alarm_actions = concat(aws_sns_topic.alarms[*].arn, var.alarm_actions)
}
