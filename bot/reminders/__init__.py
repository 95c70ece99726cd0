"""Half-term compliance reminders (issue #5): claims, the reminder run, the mop-up proposal and the scheduler.

scheduler = Scheduler(services, clock, sleep, sender=ThrottledSender(send))
await scheduler.tick(now)     # do everything due at `now` (tests drive this)
scheduler.start(); ...; await scheduler.shutdown(grace)   # the app's background task (bot/app.py)
"""
