"""The dashboard's HTML pages: views and URLconfs, one package per area. They sit on top of every
app (the API sits beside them), so a page may call any app's services and selectors; no app
imports them."""
