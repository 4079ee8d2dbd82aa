"""A FastAPI application with Sentry set up the way Sentry's FastAPI page shows it."""

import os

from fastapi import FastAPI

import sentry_sdk

sentry_sdk.init(dsn=os.environ["SHOP_SENTRY_DSN"])

app = FastAPI()


@app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, int]:
    stock = {"apples": 3}
    return {"left": stock["pears"] - item_id}
