# The audit-stream module's requirements: a caller configures the AWS provider; the
# module never does, so that it can be used with count, for_each and depends_on.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.30"
    }
  }
}
