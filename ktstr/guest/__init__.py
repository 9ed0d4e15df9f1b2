"""The guest agent: runs inside the VM as init, executes tests, reports over COM2."""
