# Inputs of the root configuration: the AWS region, and every input of the audit-stream
# module with the same name, description and type. Each defaults to null, which the
# module turns into its own default, and the module validates every value: see
# modules/audit-stream/variables.tf for the defaults and the rules (README lists both).

variable "aws_region" {
  description = "Region to deploy to; null takes it from the environment or profile (AWS_REGION, ~/.aws/config)."
  type        = string
  default     = null

  validation {
    condition     = var.aws_region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "The value of aws_region must be null or a region name such as eu-west-1."
  }
}

variable "name_prefix" {
  description = "Prefix for every name the module creates (tables, function, role, queue, alarms): \"\" gives the tables Configuration and Audit and the function audit_producer; \"prod-\" gives prod-Configuration, prod-Audit, prod-audit_producer."
  type        = string
  default     = null
}

variable "package_dir" {
  description = "Directory holding the zips that `make package` writes (audit_producer-arm64.zip, audit_producer-x86_64.zip); null means the repository's dist/, next to this folder."
  type        = string
  default     = null
}

variable "architecture" {
  description = "Instruction set of the function, which also picks the zip: arm64 (Graviton, cheaper per GB-second) or x86_64."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = null
}

variable "billing_mode" {
  description = "Capacity mode of both tables: PAY_PER_REQUEST (on-demand) or PROVISIONED (then provisioned_capacity applies)."
  type        = string
  default     = null
}

variable "provisioned_capacity" {
  description = "Read and write capacity units of each table and of the Audit table's history index, used only when billing_mode is PROVISIONED. Stream reads cost no read capacity; the Audit table takes one write per audit item, and so does the index (history_read and history_write default to audit_read and audit_write: an index short of write capacity throttles the table's writes)."
  type = object({
    configuration_read  = number
    configuration_write = number
    audit_read          = number
    audit_write         = number
    history_read        = optional(number)
    history_write       = optional(number)
  })
  default = null
}

variable "audit_ttl_attribute" {
  description = "Name of a Number attribute (epoch seconds) that DynamoDB's TTL expires Audit items by, for items something other than the function stamps. Prefer audit_retention_days, with which the function writes expiresAt and TTL is on expiresAt; with it set this must be null or \"expiresAt\" (a table has one TTL attribute). Null with no retention: TTL off, every item kept."
  type        = string
  default     = null
}

variable "history_index" {
  description = "Whether the Audit table has the global secondary index history (hash key historyKey, range key historySort, projection ALL) that `auditstream` reads one item's trail through (history, show, verify, backfill); without it those commands cannot run, and say that this variable creates it."
  type        = bool
  default     = null
}

variable "deletion_protection" {
  description = "Whether DynamoDB refuses to delete the two tables. On by default because the Audit table is the audit trail; set it to false and apply before a `terraform destroy`."
  type        = bool
  default     = null
}

variable "create_trail_policies" {
  description = "Whether to create the two managed IAM policies for the trail's readers and for backfill (reader_policy_arn, backfill_policy_arn); their documents are outputs either way (reader_policy_json, backfill_policy_json), for an account where policies are made elsewhere."
  type        = bool
  default     = null
}

variable "memory_size" {
  description = "Memory of the function in MB (CPU grows with it)."
  type        = number
  default     = null
}

variable "timeout" {
  description = "Time limit of one invocation in seconds. The function stops before it and reports the first unwritten record, so a batch is never lost to a timeout."
  type        = number
  default     = null
}

variable "audit_format" {
  description = "Shape of the audit items (AUDIT_FORMAT): classic (one item per changed attribute) or detailed (one item per change with a JSON Pointer diff)."
  type        = string
  default     = null
}

variable "audit_ignore_attributes" {
  description = "Top-level attributes not audited at all (AUDIT_IGNORE_ATTRIBUTES), e.g. [\"updatedAt\"]: left out of diffs and of whole images in both formats."
  type        = list(string)
  default     = null
}

variable "audit_concurrency" {
  description = "Write requests (PutItem or BatchWriteItem, as audit_write_api says) the function keeps in flight at once (AUDIT_CONCURRENCY)."
  type        = number
  default     = null
}

variable "log_level" {
  description = "Lowest level of the function's JSON log lines that reaches CloudWatch Logs (Lambda's application log level)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the function's log group; 0 keeps it forever."
  type        = number
  default     = null
}

variable "audit_actor_attribute" {
  description = "Attribute in which the application records who made a change (AUDIT_ACTOR_ATTRIBUTE): every audit item then carries actor and actorSource. Null: none (a TTL delete is named dynamodb.amazonaws.com either way). It may not also be in audit_redact_attributes or audit_ignore_attributes."
  type        = string
  default     = null
}

variable "audit_retention_days" {
  description = "Whole days an audit item is kept (AUDIT_RETENTION_DAYS), 1 to 36500: the function writes expiresAt (its change's time plus these days) and the Audit table's TTL is turned on for expiresAt. Null: kept forever, TTL off. Chain heads never expire."
  type        = number
  default     = null
}

variable "audit_redact_attributes" {
  description = "Top-level attributes whose changes are audited but whose values are never stored (AUDIT_REDACT_ATTRIBUTES), e.g. [\"password\"]: each value becomes a redacted marker, with an HMAC when audit_redact_key is set. The table's key attribute is never redacted."
  type        = list(string)
  default     = null
}

variable "audit_redact_key" {
  description = "HMAC-SHA256 key of redacted values' digests (AUDIT_REDACT_KEY): standard base64, padded, of 32 to 256 random bytes (`openssl rand -base64 32`). Equal values then carry equal digests without being revealed. Sensitive: never shown by plan or output, but kept in the state and in the function's configuration, like every secret Terraform deploys. Null: redacted values carry no digest."
  type        = string
  default     = null
  sensitive   = true
}

variable "audit_chain" {
  description = "Whether the function links each source item's records into a hash chain (AUDIT_CHAIN on or off) that `auditstream verify` recomputes. On grants the function and the backfill policy BatchGetItem on the Audit table (they read the chain heads; they move them with the conditional PutItem they already have). Null: not set, the function's default (off)."
  type        = bool
  default     = null
}

variable "audit_write_api" {
  description = "How the function writes audit items (AUDIT_WRITE_API): PutItem (one item a request) or BatchWriteItem (up to 25 a request, fewer round trips and less CPU; grants the function dynamodb:BatchWriteItem on the Audit table, which IAM cannot limit to puts). Null: not set, the function's default (PutItem)."
  type        = string
  default     = null
}

variable "starting_position" {
  description = "Where a new mapping starts reading the Configuration stream: TRIM_HORIZON (the oldest record kept, so that no change made before the mapping existed is missed) or LATEST."
  type        = string
  default     = null
}

variable "batch_size" {
  description = "Most stream records in one invocation."
  type        = number
  default     = null
}

variable "maximum_batching_window_in_seconds" {
  description = "Seconds Lambda may wait to fill a batch before invoking; 0 invokes as soon as records arrive."
  type        = number
  default     = null
}

variable "parallelization_factor" {
  description = "Batches processed at once per stream shard. Records of one item stay in order whatever the factor."
  type        = number
  default     = null
}

variable "maximum_record_age_in_seconds" {
  description = "Age past which a failing record is given up and sent to the failure queue; -1 means until the stream drops it (DynamoDB keeps 24 hours). The default is that same 24 hours, stated."
  type        = number
  default     = null
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its records go to the failure queue; -1 retries until the record is too old, which blocks the shard that long."
  type        = number
  default     = null
}

variable "bisect_batch_on_function_error" {
  description = "Whether a batch whose invocation fails as a whole is split in two and retried, so that one bad record cannot hold back the rest."
  type        = bool
  default     = null
}

variable "iterator_age_alarm_threshold_seconds" {
  description = "Alarm when the records the mapping hands the function are older than this many seconds (IteratorAge, the age of the last record of each batch): the function is falling behind the Configuration table."
  type        = number
  default     = null
}

variable "errors_alarm_threshold" {
  description = "Alarm when the function's Errors (failed invocations: no record of a batch could be written, or a malformed event) reach this count in a period."
  type        = number
  default     = null
}

variable "alarm_period_seconds" {
  description = "Length of one evaluation period of the IteratorAge and Errors alarms."
  type        = number
  default     = null
}

variable "alarm_evaluation_periods" {
  description = "Consecutive periods over threshold before the IteratorAge and Errors alarms fire."
  type        = number
  default     = null
}

variable "create_alarm_topic" {
  description = "Whether to create an SNS topic that every alarm notifies (on alarm and on recovery); subscribe to it outside this module."
  type        = bool
  default     = null
}

variable "alarm_actions" {
  description = "ARNs of existing SNS topics (or other alarm actions) that every alarm notifies, besides the created topic."
  type        = list(string)
  default     = null
}
