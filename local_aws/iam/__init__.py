"""IAM evaluation in the local AWS: every request evaluated as AWS would (see local_aws/README.md)."""
