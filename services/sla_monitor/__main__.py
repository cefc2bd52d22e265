from shared.service import serve
from services.sla_monitor.app import create_app

if __name__ == "__main__":
    serve(create_app())
