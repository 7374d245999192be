"""The connection (报装) law: the cities' policies and their time limits, the working-day
calendar, the public query codes and the regulator's indicator table. Pure: the
applications, the calendar and the time are passed in; the registry (``meters``) keeps the
records, the ingester watches them, the API shows them."""
