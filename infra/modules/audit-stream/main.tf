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

  # The attribute the function writes with AUDIT_RETENTION_DAYS; DynamoDB's TTL deletes
  # an item once this epoch second has passed.
  retention_attribute = "expiresAt"
  # A table has one TTL attribute: the function's when retention is set, else the one
  # audit_ttl_attribute names for items stamped elsewhere, else none (TTL off).
  ttl_attribute = var.audit_retention_days != null ? local.retention_attribute : var.audit_ttl_attribute

  # AUDIT_CHAIN=on: the function reads chain heads, and so does backfill, which links
  # its BASELINE entries into the same chains.
  chain       = var.audit_chain == true
  batch_write = var.audit_write_api == "BatchWriteItem"

  # The index `auditstream` queries by this fixed name: it is not a variable.
  history_index_name = "history"
  history_index_arn  = "${aws_dynamodb_table.audit.arn}/index/${local.history_index_name}"

  # Every audit item that has a historyKey is written to the index as well, so an index
  # with less write capacity than the table throttles the table's own writes: unless
  # set, the index gets the table's capacity.
  history_capacity = {
    read  = coalesce(var.provisioned_capacity.history_read, var.provisioned_capacity.audit_read)
    write = coalesce(var.provisioned_capacity.history_write, var.provisioned_capacity.audit_write)
  }
}
