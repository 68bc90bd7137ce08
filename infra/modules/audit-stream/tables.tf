# The two DynamoDB tables: Configuration, whose stream feeds the function, and Audit,
# which the function writes. Both keep 35 days of point-in-time recovery and are
# encrypted at rest with the account's DynamoDB KMS key.

resource "aws_dynamodb_table" "configuration" {
  name                        = local.configuration_table_name
  billing_mode                = var.billing_mode
  hash_key                    = "key"
  read_capacity               = var.billing_mode == "PROVISIONED" ? var.provisioned_capacity.configuration_read : null
  write_capacity              = var.billing_mode == "PROVISIONED" ? var.provisioned_capacity.configuration_write : null
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "key"
    type = "S"
  }

  # Both images: the function diffs them attribute by attribute.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  point_in_time_recovery {
    enabled = true
  }

  # enabled = true without a key ARN: the AWS managed key aws/dynamodb, which needs no
  # key policy or kms:* grant for the function (DynamoDB decrypts on its behalf).
  server_side_encryption {
    enabled = true
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "audit" {
  name                        = local.audit_table_name
  billing_mode                = var.billing_mode
  hash_key                    = "id"
  read_capacity               = var.billing_mode == "PROVISIONED" ? var.provisioned_capacity.audit_read : null
  write_capacity              = var.billing_mode == "PROVISIONED" ? var.provisioned_capacity.audit_write : null
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  # DynamoDB refuses an attribute definition that no key uses, so the index's two key
  # attributes are declared only with the index.
  dynamic "attribute" {
    for_each = var.history_index ? ["historyKey", "historySort"] : []
    content {
      name = attribute.value
      type = "S"
    }
  }

  # One source item's audit items in the order of its changes: `auditstream history`,
  # `show` and `verify` Query it by historyKey, with historySort bounding the time.
  # ALL, because replay needs every attribute of every item and a KEYS_ONLY index would
  # cost a GetItem per item. Chain heads and error items without sound keys have no
  # historyKey, so the index leaves them out.
  dynamic "global_secondary_index" {
    for_each = var.history_index ? [local.history_index_name] : []
    content {
      name            = global_secondary_index.value
      hash_key        = "historyKey"
      range_key       = "historySort"
      projection_type = "ALL"
      read_capacity   = var.billing_mode == "PROVISIONED" ? local.history_capacity.read : null
      write_capacity  = var.billing_mode == "PROVISIONED" ? local.history_capacity.write : null
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  # Always stated, never left out: the provider keeps a table's TTL as it is when the
  # block is missing, so only enabled = false turns it off again. DynamoDB takes one
  # TTL change per table about every hour: an apply that changes it again within the
  # hour fails, and succeeds when run again later.
  ttl {
    enabled        = local.ttl_attribute != null
    attribute_name = local.ttl_attribute
  }

  tags = var.tags
}
