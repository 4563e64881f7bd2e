# A WSGI application (PEP 3333): one function that every Python web server
# can call. Run as a program, the standard library's wsgiref serves it on
# port 8000; gunicorn serves the same function:
#   gunicorn -w 2 -b 0.0.0.0:8000 --chdir docs/examples hello_wsgi:app
import os


def app(environ, start_response):
    body = f"Hello {environ['REMOTE_ADDR']}, from process {os.getpid()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    from wsgiref.simple_server import make_server
    make_server("0.0.0.0", 8000, app).serve_forever()
