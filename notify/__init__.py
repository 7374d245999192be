"""Notifications, the pure core (issue 23): what an alarm's message says, how each channel
wants it (a signed webhook, mail, an SMS gateway, the WeCom / DingTalk / Feishu group
robots), and which channels an alarm goes to. No I/O: the notifier package sends."""
