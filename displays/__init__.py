"""Call screens and other live displays: Socket.IO rooms, snapshots and pushes."""
