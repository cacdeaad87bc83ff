from ninja import NinjaAPI

api = NinjaAPI(title="orgconnectors API", version="1", docs_url="/docs")
