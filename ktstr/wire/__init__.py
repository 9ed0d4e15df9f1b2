"""The guest -> host result stream: protobuf messages (ktstr.proto) in CRC-checked frames."""
